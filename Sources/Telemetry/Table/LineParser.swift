/// Reads one stored line into the table's columns, interning each value as it goes.
struct LineParser {
    /// Longest property string value kept (docs/dimensions.md).
    static let maxPropBytes = 256

    private var context = [UInt32](repeating: 0, count: ContextTable.width)
    private var pairs: [(UInt32, UInt32)] = []
    private var scratch: [UInt8] = []

    /// Adds the stored line (without its `\n`) read from segment `seq`; a line that does not parse is skipped
    /// (recovery has quarantined damaged lines already).
    mutating func add(_ line: UnsafeBufferPointer<UInt8>, seq: Int, to s: inout EventTable.State, hasher: SipHash) {
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
                    guard let slot = Self.slot(j, key) else { continue }
                    context[slot.rawValue] = UInt32(s.contextValues[slot.rawValue].id(bytes) + 1)
                }
            }
        } catch {
            return
        }
        guard let ts, hasType else { return }
        let date = CivilDate(epochMilliseconds: ts)
        row.ms = UInt32(ts - date.startMilliseconds)
        row.context = UInt32(context.withUnsafeBufferPointer { s.contexts.id($0) })
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

    /// The context slot a stored key names.
    private static func slot(_ j: JSONScanner, _ key: JSONScanner.StringSpan) -> Dimension.ContextSlot? {
        let name = String(decoding: UnsafeBufferPointer(rebasing: j.bytes[key.start..<key.end]), as: UTF8.self)
        return Dimension.ContextSlot.byKey[name]
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
