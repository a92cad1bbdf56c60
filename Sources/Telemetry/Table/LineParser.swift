#if canImport(Glibc)
import Glibc
#endif

/// Reads one stored line into the table's columns, interning each value as it goes.
struct LineParser {
    /// Longest property string value kept (docs/dimensions.md).
    static let maxPropBytes = 256

    private static let slots = Dimension.ContextSlot.allCases.count
    private var context = [UInt32](repeating: 0, count: slots)
    /// The previous line's context values and tuples: the events of a batch share their request's dimensions,
    /// so most lines repeat them and skip the dictionaries.
    private var lastValues = [[UInt8]](repeating: [], count: slots)
    private var lastCodes = [UInt32](repeating: 0, count: slots)
    private var lastContext = [UInt32](repeating: .max, count: slots)
    private var lastTuples: (source: UInt32, client: UInt32) = (0, 0)
    /// The previous line's run of request dimensions (`browser` … `country`, which all the events of a batch
    /// share) as its stored bytes and the codes it set: a line repeating it byte for byte takes the codes
    /// with one comparison.
    private var lastRun: [UInt8] = []
    private var lastRunCodes: [(slot: Int, code: UInt32)] = []
    /// This line's run: where it starts (-1: none open), where its last value ends, and its codes.
    private var runStart = -1
    private var runEnd = 0
    private var runCodes: [(slot: Int, code: UInt32)] = []
    private var pairs: [(UInt32, UInt32)] = []
    private var scratch: [UInt8] = []
    /// The previous line's user and session ids and their bytes: a batch's events mostly share them.
    private var lastUser = Remembered()
    private var lastSession = Remembered()

    private struct Remembered {
        var bytes: [UInt8] = []
        var id = DayColumns.none

        @inline(__always)
        func matches(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
            id != DayColumns.none && bytes.withUnsafeBufferPointer { $0.count == b.count && memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 }
        }

        /// The id of `b` (none when empty): the remembered one when the bytes repeat, else `make()`'s, then remembered.
        @inline(__always)
        mutating func id(_ b: UnsafeBufferPointer<UInt8>, _ make: () -> UInt32) -> UInt32 {
            guard !b.isEmpty else { return DayColumns.none }
            if matches(b) { return id }
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: b)
            id = make()
            return id
        }
    }

    /// Adds the stored line (without its `\n`) read from segment `seq`; a line that does not parse is skipped
    /// (recovery has quarantined damaged lines already).
    mutating func add(_ line: UnsafeBufferPointer<UInt8>, seq: Int, to s: inout EventTable.State, hasher: SipHash) {
        if !addCanonical(line, seq: seq, to: &s, hasher: hasher) { addValidating(line, seq: seq, to: &s, hasher: hasher) }
    }

    /// Reads any JSON object line, validating it as it goes.
    private mutating func addValidating(_ line: UnsafeBufferPointer<UInt8>, seq: Int, to s: inout EventTable.State, hasher: SipHash) {
        var row = DayColumns.Row()
        var ts: Int64?
        var hasType = false
        for i in context.indices { context[i] = 0 }
        pairs.removeAll(keepingCapacity: true)
        var j = JSONScanner(line)
        do {
            try j.expect(UInt8(ascii: "{"))
            var first = true
            while try j.nextElement(close: UInt8(ascii: "}"), first: &first) {
                let key = try j.scanString()
                try j.expect(UInt8(ascii: ":"))
                guard j.peek() == UInt8(ascii: "\"") else {
                    if j.equals(key, "metadata"), j.peek() == UInt8(ascii: "{") {
                        try readProperties(&j, into: &s)
                    } else {
                        try j.skipValue(depth: 1)
                    }
                    continue
                }
                let value = try j.scanString()
                let bytes = UnsafeBufferPointer(rebasing: line[value.start..<value.end])
                switch key.end - key.start {
                case 2 where j.equals(key, "ts"): ts = Timestamp.parse(bytes)
                case 4 where j.equals(key, "page"): row.page = UInt32(s.pages.id(bytes) + 1)
                case 7 where j.equals(key, "user_id"):
                    if !bytes.isEmpty { row.user = s.users.id(hasher.hash(bytes)) }
                case 7 where j.equals(key, "feature"): row.feature = UInt32(s.features.id(bytes) + 1)
                case 10 where j.equals(key, "event_type"):
                    row.type = UInt32(s.types.id(bytes))
                    hasType = true
                case 10 where j.equals(key, "session_id"):
                    if !bytes.isEmpty { row.session = s.sessions.id(hasher.hash(bytes)) }
                default:
                    guard let slot = Self.slot(UnsafeBufferPointer(rebasing: line[key.start..<key.end])) else { continue }
                    context[slot.rawValue] = code(bytes, slot.rawValue, &s)
                }
            }
        } catch {
            return
        }
        finish(&row, ts: ts, hasType: hasType, seq: seq, to: &s)
    }

    /// Reads a line in the canonical form this daemon writes (string values only, minimal escaping, metadata an
    /// object) without validating it again: false for anything else, which `add` then reads in full.
    mutating func addCanonical(_ line: UnsafeBufferPointer<UInt8>, seq: Int, to s: inout EventTable.State, hasher: SipHash) -> Bool {
        var row = DayColumns.Row()
        var ts: Int64?
        var hasType = false
        for i in context.indices { context[i] = 0 }
        pairs.removeAll(keepingCapacity: true)
        // A line given up on midway left its run open: it is not this line's.
        runStart = -1
        let n = line.count
        guard n > 2, line[0] == 0x7B, line[n - 1] == 0x7D else { return false }
        var i = 1
        while i < n - 1 {
            // "key":
            guard line[i] == 0x22 else { return false }
            let keyStart = i + 1
            var k = keyStart
            while k < n, line[k] != 0x22 { k += 1 }
            guard k + 2 < n, line[k + 1] == 0x3A else { return false }
            let key = UnsafeBufferPointer(rebasing: line[keyStart..<k])
            i = k + 2
            if runStart < 0, repeatsLastRun(line, at: keyStart - 1, key: key) {
                for (slot, code) in lastRunCodes { context[slot] = code }
                i = keyStart - 1 + lastRun.count
            } else if line[i] == 0x22 {
                let valueStart = i + 1
                guard let v = Self.closingQuote(line, from: valueStart) else { return false }
                let bytes = UnsafeBufferPointer(rebasing: line[valueStart..<v])
                switch key.count {
                case 2 where key[0] == 0x74: ts = Timestamp.parse(bytes)
                case 4 where key[0] == 0x70: row.page = UInt32(s.pages.id(bytes) + 1)
                case 7 where key[0] == 0x75: row.user = lastUser.id(bytes) { s.users.id(hasher.hash(bytes)) }
                case 7 where key[0] == 0x66 && key[1] == 0x65: row.feature = UInt32(s.features.id(bytes) + 1)
                case 10 where key[0] == 0x65:
                    row.type = UInt32(s.types.id(bytes))
                    hasType = true
                case 10 where key[0] == 0x73: row.session = lastSession.id(bytes) { s.sessions.id(hasher.hash(bytes)) }
                default:
                    guard let slot = Self.slot(key) else { closeRun(line); break }
                    let code = code(bytes, slot.rawValue, &s)
                    context[slot.rawValue] = code
                    guard Self.requestSlots.contains(slot.rawValue) else { closeRun(line); break }
                    if runStart < 0 {
                        runStart = keyStart - 1
                        runCodes.removeAll(keepingCapacity: true)
                    }
                    runCodes.append((slot.rawValue, code))
                    runEnd = v + 1
                }
                i = v + 1
            } else if line[i] == 0x7B, key.count == 8, key[0] == 0x6D {
                closeRun(line)
                var j = JSONScanner(line)
                j.index = i
                do { try readProperties(&j, into: &s) } catch { return false }
                i = j.index
            } else {
                return false
            }
            guard i < n else { return false }
            if line[i] == 0x2C { i += 1 } else if line[i] != 0x7D { return false }
        }
        closeRun(line)
        finish(&row, ts: ts, hasType: hasType, seq: seq, to: &s)
        return true
    }

    /// The request dimensions' slots (`browser` … `country`).
    private static let requestSlots = Dimension.ContextSlot.browser.rawValue...Dimension.ContextSlot.country.rawValue

    /// Whether the member whose key's opening quote is at `at` starts the previous line's run of request
    /// dimensions, byte for byte, up to a member boundary.
    @inline(__always)
    private func repeatsLastRun(_ line: UnsafeBufferPointer<UInt8>, at: Int, key: UnsafeBufferPointer<UInt8>) -> Bool {
        let end = at + lastRun.count
        guard !lastRun.isEmpty, end < line.count, line[end] == 0x2C || line[end] == 0x7D,
              let slot = Self.slot(key), Self.requestSlots.contains(slot.rawValue) else { return false }
        return lastRun.withUnsafeBufferPointer { memcmp($0.baseAddress!, line.baseAddress! + at, $0.count) == 0 }
    }

    /// Ends this line's run of request dimensions, if one is open, keeping it for the next line.
    private mutating func closeRun(_ line: UnsafeBufferPointer<UInt8>) {
        guard runStart >= 0 else { return }
        lastRun.removeAll(keepingCapacity: true)
        lastRun.append(contentsOf: UnsafeBufferPointer(rebasing: line[runStart..<runEnd]))
        swap(&lastRunCodes, &runCodes)
        runStart = -1
    }

    /// The index of the quote that closes a string whose content starts at `start` (memchr, then a check that
    /// the quote is not escaped), or nil when the line ends first.
    @inline(__always)
    static func closingQuote(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var at = start
        while at < line.count {
            guard let found = memchr(line.baseAddress! + at, 0x22, line.count - at) else { return nil }
            let quote = line.baseAddress!.distance(to: found.assumingMemoryBound(to: UInt8.self))
            var backslashes = 0
            while quote - backslashes - 1 >= start, line[quote - backslashes - 1] == 0x5C { backslashes += 1 }
            if backslashes % 2 == 0 { return quote }
            at = quote + 1
        }
        return nil
    }

    /// Completes a row from what a line gave: its date, its context and property set.
    private mutating func finish(_ row: inout DayColumns.Row, ts: Int64?, hasType: Bool, seq: Int, to s: inout EventTable.State) {
        guard let ts, hasType else { return }
        let date = CivilDate(epochMilliseconds: ts)
        row.ms = UInt32(ts - date.startMilliseconds)
        // Each part's tuple is looked up only when its values differ from the previous line's.
        context.withUnsafeBufferPointer { c in
            lastContext.withUnsafeMutableBufferPointer { last in
                for part in Dimension.ContextSlot.Part.allCases {
                    let range = part.range
                    let bytes = range.count * MemoryLayout<UInt32>.stride
                    guard memcmp(c.baseAddress! + range.lowerBound, last.baseAddress! + range.lowerBound, bytes) != 0 else { continue }
                    memcpy(last.baseAddress! + range.lowerBound, c.baseAddress! + range.lowerBound, bytes)
                    let id = UInt32(s.contexts[part.rawValue].id(UnsafeBufferPointer(rebasing: c[range])))
                    if part == .source { lastTuples.source = id } else { lastTuples.client = id }
                }
            }
        }
        (row.source, row.client) = lastTuples
        if !pairs.isEmpty {
            pairs.sort { $0.0 < $1.0 }
            scratch.removeAll(keepingCapacity: true)
            for (k, v) in pairs {
                withUnsafeBytes(of: k.littleEndian) { scratch.append(contentsOf: $0) }
                withUnsafeBytes(of: v.littleEndian) { scratch.append(contentsOf: $0) }
            }
            row.props = UInt32(s.propSets.id(scratch))
        }
        s.days[date.dayNumber, default: DayColumns()].append(row, seq: seq)
        s.events += 1
    }

    /// The code (value id + 1) of a context value, the previous line's when it is the same.
    private mutating func code(_ bytes: UnsafeBufferPointer<UInt8>, _ slot: Int, _ s: inout EventTable.State) -> UInt32 {
        if lastCodes[slot] != 0, lastValues[slot].withUnsafeBufferPointer({ last in
            last.count == bytes.count && (bytes.isEmpty || memcmp(last.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
        }) { return lastCodes[slot] }
        let code = UInt32(s.contextValues[slot].id(bytes) + 1)
        lastValues[slot].removeAll(keepingCapacity: true)
        lastValues[slot].append(contentsOf: bytes)
        lastCodes[slot] = code
        return code
    }

    /// The context slot a stored key names, compared as bytes (no string is built per key).
    static func slot(_ key: UnsafeBufferPointer<UInt8>) -> Dimension.ContextSlot? {
        func named(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == key.count && memcmp(name.utf8Start, key.baseAddress!, key.count) == 0
        }
        switch key.count {
        case 2: return named("os") ? .os : nil
        case 6: return named("device") ? .device : nil
        case 7: return named("browser") ? .browser : named("country") ? .country : named("channel") ? .channel : nil
        case 8: return named("referrer") ? .referrer : named("utm_term") ? .utmTerm : named("platform") ? .platform : nil
        case 10: return named("utm_source") ? .utmSource : named("utm_medium") ? .utmMedium : named("os_version") ? .osVersion : nil
        case 11: return named("utm_content") ? .utmContent : nil
        case 12: return named("utm_campaign") ? .utmCampaign : nil
        case 14: return named("client_version") ? .clientVersion : nil
        case 15: return named("browser_version") ? .browserVersion : nil
        default: return nil
        }
    }

    /// The top-level scalar members of `metadata` as (key id, value id) pairs: strings up to 256 bytes, numbers
    /// and booleans as their JSON text; the first of a repeated key wins.
    private mutating func readProperties(_ j: inout JSONScanner, into s: inout EventTable.State) throws(JSONScanner.Failure) {
        try j.expect(UInt8(ascii: "{"))
        var first = true
        while try j.nextElement(close: UInt8(ascii: "}"), first: &first) {
            let key = try j.scanString()
            try j.expect(UInt8(ascii: ":"))
            guard let c = j.peek() else { throw j.fail("unexpected end of JSON") }
            let start = j.index
            var text: JSONScanner.StringSpan?
            switch c {
            case UInt8(ascii: "\""):
                let v = try j.scanString()
                if (v.hasEscapes ? JSONString.unescape(j.bytes, v).count : v.end - v.start) <= Self.maxPropBytes { text = v }
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                _ = try j.skipValue(depth: 2)
                text = JSONScanner.StringSpan(start: start, end: j.index, hasEscapes: false, scalarCount: 0)
            default:
                _ = try j.skipValue(depth: 2)
            }
            guard let text else { continue }
            let k = UInt32(s.propKeys.id(Self.canonical(j.bytes, key)))
            guard !pairs.contains(where: { $0.0 == k }) else { continue }
            pairs.append((k, UInt32(s.propValues.id(Self.canonical(j.bytes, text)))))
        }
    }

    /// A string's content in the log's canonical escaping (metadata keeps the sender's escapes).
    static func canonical(_ b: UnsafeBufferPointer<UInt8>, _ span: JSONScanner.StringSpan) -> [UInt8] {
        guard span.hasEscapes else { return Array(b[span.start..<span.end]) }
        var out: [UInt8] = []
        JSONString.appendEscaped(JSONString.unescape(b, span), into: &out)
        return out
    }
}
