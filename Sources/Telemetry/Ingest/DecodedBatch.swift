/// One stored event's place in a batch's canonical lines, with the fields the index and dedup read.
public struct EventRecord: Sendable {
    /// The stored `ts`, epoch milliseconds.
    public var ts: Int64
    public var line: Range<Int>
    public var eventType: Range<Int>
    public var feature: Range<Int>? = nil
    public var user: Range<Int>? = nil
    public var id: Range<Int>? = nil
    public var session: Range<Int>? = nil

    /// The record of the same line moved by `shift` bytes.
    func moved(by shift: Int) -> EventRecord {
        func m(_ x: Range<Int>) -> Range<Int> { (x.lowerBound + shift)..<(x.upperBound + shift) }
        return EventRecord(ts: ts, line: m(line), eventType: m(eventType), feature: feature.map(m), user: user.map(m), id: id.map(m),
                           session: session.map(m))
    }
}

/// A decoded batch: canonical NDJSON lines of the events to store and what happened to the others.
public struct DecodedBatch: Sendable {
    public var lines: [UInt8] = []
    public var records: [EventRecord] = []
    public var ignored = 0
    public var duplicates = 0
    public var rejected: [Rejection] = []
    /// The batch's `"site"`, nil when it names none (the default site).
    public var site: String?
    /// When the batch was received, epoch ms.
    public var receivedAt: Int64 = 0
    /// The batch says it was sent by a driven browser (`"webdriver":true`, from telemetry.js).
    public var webdriver = false
    /// Events dropped as bots.
    public var bots = 0

    public struct Rejection: Sendable, Equatable {
        public var index: Int
        public var error: String
    }

    /// Drops the records at `drop` (sorted ascending) and compacts the lines to match.
    mutating func remove(indices drop: [Int]) {
        guard !drop.isEmpty else { return }
        var kept: [EventRecord] = []
        var out: [UInt8] = []
        out.reserveCapacity(lines.count)
        kept.reserveCapacity(records.count - drop.count)
        var d = 0
        for (i, r) in records.enumerated() {
            if d < drop.count, drop[d] == i {
                d += 1
                continue
            }
            let shift = out.count - r.line.lowerBound
            out.append(contentsOf: lines[r.line])
            kept.append(r.moved(by: shift))
        }
        lines = out
        records = kept
    }
}

/// Why a whole batch was refused, with its HTTP status.
public struct BatchError: Error, Equatable, Sendable {
    public enum Kind: Sendable { case badRequest, tooLarge }
    public var kind: Kind
    public var message: String
    public var rejected: [DecodedBatch.Rejection] = []
}
