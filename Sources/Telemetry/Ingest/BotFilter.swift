import CoreMetrics
import Synchronization

/// Keeps crawlers, driven browsers and impossible sessions out of the numbers (docs/bots.md): a request whose
/// User-Agent is on `BotList`, a batch telemetry.js sent from a driven browser (`"webdriver":true`), and a
/// session sending more than `maxPerSecond` events within one second of its timestamps. Bots are dropped and
/// counted by reason, or with `--keep-bots` stored with `device` `bot`.
final class BotFilter: Sendable {
    enum Reason: String, CaseIterable, Sendable {
        case userAgent = "user_agent"
        case webdriver
        case rate
    }

    /// How long a session that broke the rate stays a bot.
    static let flagMs: Int64 = 30 * Milliseconds.minute
    /// Sessions remembered at most; past it the oldest half is forgotten.
    static let maxSessions = 200_000

    let keep: Bool
    let maxPerSecond: Int
    private let counters: [Reason: CoreMetrics.Counter]

    private struct Session {
        var second: Int64
        var count: Int
        var flaggedUntil: Int64
        var seen: Int64
    }
    private let sessions = Locked([UInt64: Session]())
    /// Whether each recent User-Agent is a bot (in memory only, as the dimensions' classification of it is):
    /// each request carries one, and matching it against the list costs a hundred substring searches.
    private let verdicts = RecentCache<Bool>(capacity: 4096)

    init(keep: Bool, maxPerSecond: Int, metrics: TelemetryMetrics) {
        self.keep = keep
        self.maxPerSecond = maxPerSecond
        var counters: [Reason: CoreMetrics.Counter] = [:]
        for reason in Reason.allCases {
            counters[reason] = CoreMetrics.Counter(label: "telemetry_events_bot_total", dimensions: [("reason", reason.rawValue)], factory: metrics.factory)
        }
        self.counters = counters
    }

    /// Why a whole request is a bot, from what is known before its body is read.
    func requestReason(userAgent: String?) -> Reason? {
        guard let userAgent, verdicts.value(for: userAgent, computing: { BotList.match($0) != nil }) else { return nil }
        return .userAgent
    }

    /// Drops (or marks) the batch's bot events: all of them when the request is a bot, else the events of
    /// sessions over the rate. `site` keeps sessions of different sites apart.
    func apply(to batch: inout DecodedBatch, request: Reason?, site: String) {
        let reason = request ?? (batch.webdriver ? .webdriver : nil)
        if let reason {
            counters[reason]?.increment(by: batch.records.count)
            if keep {
                // The request's device was set to bot before decoding when the User-Agent told; a webdriver flag
                // is only known now.
                if reason == .webdriver { batch.setDeviceBot(Array(batch.records.indices)) }
            } else {
                batch.bots += batch.records.count
                batch.remove(indices: Array(batch.records.indices))
            }
            return
        }
        guard maxPerSecond > 0 else { return }
        let flagged = overRate(batch, site: site)
        guard !flagged.isEmpty else { return }
        counters[.rate]?.increment(by: flagged.count)
        if keep {
            batch.setDeviceBot(flagged)
        } else {
            batch.bots += flagged.count
            batch.remove(indices: flagged)
        }
    }

    /// The indices (ascending) of events whose session is over the rate, or was within the last 30 minutes.
    private func overRate(_ batch: DecodedBatch, site: String) -> [Int] {
        var flagged: [Int] = []
        let now = batch.receivedAt
        sessions.withLock { sessions in
            for (i, record) in batch.records.enumerated() {
                guard let range = record.session, !range.isEmpty else { continue }
                var hasher = Hasher()
                hasher.combine(site)
                batch.lines[range].withUnsafeBufferPointer { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
                let key = UInt64(bitPattern: Int64(hasher.finalize()))
                let second = record.ts / Milliseconds.second
                var s = sessions[key] ?? Session(second: second, count: 0, flaggedUntil: 0, seen: now)
                if s.second != second {
                    s.second = second
                    s.count = 0
                }
                s.count += 1
                s.seen = now
                if s.count > maxPerSecond { s.flaggedUntil = now + Self.flagMs }
                if s.flaggedUntil > now { flagged.append(i) }
                sessions[key] = s
            }
            if sessions.count > Self.maxSessions {
                let cutoff = sessions.values.map(\.seen).sorted()[sessions.count / 2]
                sessions = sessions.filter { $0.value.seen > cutoff || $0.value.flaggedUntil > now }
            }
        }
        return flagged
    }
}

extension DecodedBatch {
    /// Sets `device` to `bot` on the lines at `indices` (ascending), keeping every other byte and range.
    mutating func setDeviceBot(_ indices: [Int]) {
        guard !indices.isEmpty else { return }
        let marked = Set(indices)
        var out: [UInt8] = []
        out.reserveCapacity(lines.count + indices.count * 16)
        var records = self.records
        for (i, r) in self.records.enumerated() {
            let shift = out.count - r.line.lowerBound
            if marked.contains(i) {
                out += Self.withDeviceBot(lines[r.line])
                records[i] = r.moved(by: shift)
                records[i].line = records[i].line.lowerBound..<out.count
            } else {
                out += lines[r.line]
                records[i] = r.moved(by: shift)
            }
        }
        lines = out
        self.records = records
    }

    /// A canonical line with `"device":"bot"`: the stored device replaced, or the field inserted where the
    /// canonical order puts it (before country, metadata and received_at). Every range the index reads lies
    /// before it, so they stay valid.
    static func withDeviceBot(_ line: ArraySlice<UInt8>) -> [UInt8] {
        let bytes = Array(line)
        func find(_ needle: String, before end: Int) -> Int? {
            let n = Array(needle.utf8)
            guard n.count <= end else { return nil }
            var i = 0
            while i + n.count <= end {
                if bytes[i] == n[0], Array(bytes[i..<(i + n.count)]) == n { return i }
                i += 1
            }
            return nil
        }
        let boundary = [#","country":""#, #","metadata":{"#, #","received_at":""#].compactMap { find($0, before: bytes.count) }.min()
            ?? bytes.count - 2
        let field = Array(#","device":"bot""#.utf8)
        if let start = find(#","device":""#, before: boundary) {
            var end = start + 11
            while end < boundary, bytes[end] != UInt8(ascii: "\"") { end += 1 }
            return Array(bytes[..<start]) + field + Array(bytes[(end + 1)...])
        }
        return Array(bytes[..<boundary]) + field + Array(bytes[boundary...])
    }
}
