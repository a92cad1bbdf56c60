import Crypto
import Foundation
import Synchronization

/// Brings history into a site (docs/import.md): NDJSON lines in telemetryd's own format (what `export` writes,
/// dimensions included) or the original EchoPilot `analytics_events.ndjson` format (`ts` possibly without
/// milliseconds), through the same decoder, dedup and durable writer as the event endpoint, so aggregates and
/// every dimension are exact afterwards. Ids are checked against every id the site stores, not only the dedup
/// window, and a line without an id gets one from its content: a second run of the same file adds nothing.
public final class EventImporter: Sendable {
    public struct Summary: Sendable, Equatable {
        public var imported = 0
        public var duplicates = 0
        public var ignored = 0
        public var rejected = 0

        public static func + (a: Summary, b: Summary) -> Summary {
            Summary(imported: a.imported + b.imported, duplicates: a.duplicates + b.duplicates, ignored: a.ignored + b.ignored,
                    rejected: a.rejected + b.rejected)
        }

        public init(imported: Int = 0, duplicates: Int = 0, ignored: Int = 0, rejected: Int = 0) {
            (self.imported, self.duplicates, self.ignored, self.rejected) = (imported, duplicates, ignored, rejected)
        }

        public var line: String { "imported \(imported), duplicates \(duplicates), ignored \(ignored), rejected \(rejected)" }
    }

    let storage: Storage
    /// Hashes of every id stored in the site, built once from its log.
    private let known: Locked<Set<Int>>
    /// Lines without an id seen in the current run, by content.
    private struct Run {
        var id = ""
        var counts: [[UInt8]: Int] = [:]
    }
    private let occurrences = Locked(Run())

    /// Starts counting identical lines afresh for a new run (one `telemetryd import` invocation).
    public func begin(run id: String) {
        occurrences.withLock { if $0.id != id { $0 = Run(id: id) } }
    }
    /// Events a line of telemetryd's own format carries as they were derived at its ingest.
    static let requestKeys = ["browser", "browser_version", "os", "os_version", "device", "country"]

    /// Reads every id the site stores (on the caller's thread: a scan of the log).
    public init(storage: Storage) throws {
        self.storage = storage
        var ids = Set<Int>()
        let replay = LogReplay(directory: storage.configuration.dataDirectory, logger: storage.logger)
        try replay.forEachEvent(in: replay.files()) { event, line in
            if let id = event.id { ids.insert(Self.hash(UnsafeBufferPointer(rebasing: line[id]))) }
        }
        known = Locked(ids)
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var h = Hasher()
        h.combine(bytes: UnsafeRawBufferPointer(bytes))
        return h.finalize()
    }

    /// One line as an event of the endpoint's format, and its request dimensions; nil when it is not a JSON
    /// object. The line goes to the decoder as it is (keys the endpoint does not take are ignored there, and a
    /// stored `referrer` host derives to itself), with an id from its content when it has none.
    /// `occurrence` counts earlier lines of this run with the same bytes, so identical events (a double click
    /// within one batch) keep apart while a second run of the file finds the same ids.
    static func event(from line: UnsafeBufferPointer<UInt8>, occurrence: (SHA256.Digest) -> Int) -> (event: [UInt8], request: [String?])? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(buffer: line))) as? [String: Any] else { return nil }
        var event = Array(line)
        if object["id"] == nil || object["id"] is NSNull, let brace = event.firstIndex(of: UInt8(ascii: "{")) {
            let digest = SHA256.hash(data: Data(buffer: line))
            let n = occurrence(digest)
            let id = "import-" + digest.prefix(12).map { String(format: "%02x", $0) }.joined() + (n == 0 ? "" : "-\(n)")
            let member = Array(#""id":"\#(id)""#.utf8) + (object.isEmpty || object["id"] is NSNull ? [] : [UInt8(ascii: ",")])
            if object["id"] is NSNull {
                // `"id":null` becomes the content id in place (a second `id` key would be a duplicate).
                if let range = String(decoding: event, as: UTF8.self).range(of: #""id"\s*:\s*null"#, options: .regularExpression) {
                    var text = String(decoding: event, as: UTF8.self)
                    text.replaceSubrange(range, with: #""id":"\#(id)""#)
                    event = Array(text.utf8)
                }
            } else {
                event.insert(contentsOf: member, at: brace + 1)
            }
        }
        // A stored referrer is a bare host ("localhost" has no dot to tell it is one): make it a URL again.
        if object["received_at"] != nil, let host = object["referrer"] as? String, !host.contains("://") {
            var escaped: [UInt8] = []
            JSONString.appendEscaped(host.utf8, into: &escaped)
            let member = Array(#""referrer":""#.utf8) + escaped + [UInt8(ascii: "\"")]
            if let at = Self.find(member, in: event) {
                event.replaceSubrange(at..<(at + member.count), with: Array(#""referrer":"https://"#.utf8) + escaped + Array(#"/""#.utf8))
            }
        }
        return (event, requestValues(object))
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }

    static func requestValues(_ object: [String: Any]) -> [String?] {
        requestKeys.map { object[$0] as? String }
    }

    /// A batch being gathered: events with the same request dimensions, at most 100.
    public struct Pending: Sendable {
        var events: [[UInt8]] = []
        var request: [String?] = []
        /// Batches handed to the writer and not yet acknowledged: several at once share a group commit.
        var inFlight: [Task<EventIngestor.Outcome, any Error>] = []
        public var summary = Summary()

        public init() {}

        mutating func absorb(_ outcome: EventIngestor.Outcome) {
            summary.imported += outcome.logged
            summary.duplicates += outcome.duplicates
            summary.ignored += outcome.ignored
            summary.rejected += outcome.rejected.count
        }
    }

    /// Batches in flight at most: enough to fill a group commit without holding much memory.
    static let maxInFlight = 16

    /// Adds one line to `pending`, storing the batch first when the line cannot join it.
    public func add(_ line: [UInt8], to pending: inout Pending) async throws {
        var end = line.count
        while end > 0, line[end - 1] == 0x0D || line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        guard end > 0 else { return }
        let parsed = line[..<end].withUnsafeBufferPointer { b in
            Self.event(from: b) { digest in
                let key = Array(digest)
                return occurrences.withLock { run in
                    let n = run.counts[key] ?? 0
                    run.counts[key] = n + 1
                    return n
                }
            }
        }
        guard let (event, request) = parsed else {
            pending.summary.rejected += 1
            return
        }
        if !pending.events.isEmpty && (pending.request != request || pending.events.count == EventDecoder.maxEvents) {
            try await storeGathered(&pending)
        }
        pending.request = request
        pending.events.append(event)
    }

    /// Stores the gathered batch and waits until every batch of the import is durable.
    public func flush(_ pending: inout Pending) async throws {
        try await storeGathered(&pending)
        while !pending.inFlight.isEmpty { pending.absorb(try await pending.inFlight.removeFirst().value) }
    }

    /// Hands the gathered batch to the writer, waiting for the oldest when too many are in flight.
    func storeGathered(_ pending: inout Pending) async throws {
        guard !pending.events.isEmpty else { return }
        var body = Array("{\"events\":[".utf8)
        for (i, e) in pending.events.enumerated() {
            if i > 0 { body.append(0x2C) }
            body += e
        }
        body += Array("]}".utf8)
        let count = pending.events.count
        pending.events.removeAll(keepingCapacity: true)
        let dimensions = pending.request.allSatisfy({ $0 == nil }) ? RequestDimensions.none : RequestDimensions(values: pending.request)
        var batch: DecodedBatch
        do {
            batch = try body.withUnsafeBufferPointer { b throws(BatchError) in
                try storage.ingestor.decode(b, dimensions: dimensions)
            }
        } catch {
            pending.summary.rejected += error.rejected.isEmpty ? count : error.rejected.count
            return
        }
        // Ids the site already stores, or that repeat within this import.
        var repeats: [Int] = []
        known.withLock { known in
            for (i, r) in batch.records.enumerated() {
                guard let id = r.id else { continue }
                let h = batch.lines[id].withUnsafeBufferPointer { Self.hash($0) }
                if !known.insert(h).inserted { repeats.append(i) }
            }
        }
        batch.remove(indices: repeats)
        let prepared = storage.ingestor.prepare(batch)
        pending.summary.duplicates += repeats.count
        let ingestor = storage.ingestor
        pending.inFlight.append(Task { try await ingestor.store(prepared) })
        if pending.inFlight.count >= Self.maxInFlight { pending.absorb(try await pending.inFlight.removeFirst().value) }
    }
}

extension RequestDimensions {
    /// Request dimensions as stored on an imported line (browser, browser_version, os, os_version, device, country).
    init(values: [String?]) {
        self.init(userAgent: UserAgent(browser: values[0], browserVersion: values[1], os: values[2], osVersion: values[3], device: values[4]),
                  country: values[5])
    }
}

extension Data {
    init(buffer: UnsafeBufferPointer<UInt8>) {
        self = buffer.baseAddress.map { Data(bytes: $0, count: buffer.count) } ?? Data()
    }
}
