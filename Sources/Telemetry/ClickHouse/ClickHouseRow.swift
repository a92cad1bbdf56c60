#if canImport(Glibc)
import Glibc
#endif

/// Turns stored lines into the rows of the events table, as `JSONEachRow` text (docs/clickhouse.md).
struct ClickHouseRow {
    let site: String
    /// Names events without an `id`: `<instance>/<seq>/<offset>`, the same on every resend of that line.
    let instance: String

    /// The string columns' names as bytes, by length, for matching a line's keys without allocating.
    private static let names: [[UInt8]] = ClickHouseSchema.stringColumns.map { Array($0.name.utf8) }
    /// The column name bytes of each string column, in the row's order, with their JSON prefix.
    private static let prefixes: [[UInt8]] = ClickHouseSchema.stringColumns.map { Array(",\"\($0.name)\":\"".utf8) }

    /// The line's place in this instance's log, as one number that sorts like (segment, offset): the tie-break of
    /// entry and exit pages between events of one millisecond.
    static func logPosition(seq: Int, offset: Int) -> UInt64 { UInt64(seq) << 40 | UInt64(offset) }

    /// Which string column a key names, or nil.
    @inline(__always)
    private static func column(_ line: UnsafeBufferPointer<UInt8>, _ key: JSONScanner.StringSpan) -> Int? {
        let length = key.end - key.start
        for (i, name) in names.enumerated() where name.count == length {
            if name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, line.baseAddress! + key.start, length) == 0 }) { return i }
        }
        return nil
    }

    @inline(__always)
    private static func named(_ line: UnsafeBufferPointer<UInt8>, _ key: JSONScanner.StringSpan, _ name: StaticString) -> Bool {
        key.end - key.start == name.utf8CodeUnitCount && memcmp(name.utf8Start, line.baseAddress! + key.start, name.utf8CodeUnitCount) == 0
    }

    /// Appends the row of `line` (a stored line without its `\n`, read at `offset` of segment `seq`) and a
    /// newline to `out`; returns when the event was received (its `ts` when the line has no `received_at`), or nil
    /// (and nothing appended) when the line does not parse.
    func append(_ line: UnsafeBufferPointer<UInt8>, seq: Int, offset: Int, to out: inout [UInt8]) -> Int64? {
        var values = [Range<Int>?](repeating: nil, count: Self.names.count)
        var ts: Int64?
        var tsText: Range<Int>?
        var receivedAt: Int64?
        var id: Range<Int>?
        var props: [(key: [UInt8], value: [UInt8])] = []
        var j = JSONScanner(line)
        do {
            try j.expect(UInt8(ascii: "{"))
            var first = true
            while try j.nextElement(close: UInt8(ascii: "}"), first: &first) {
                let key = try j.scanString()
                try j.expect(UInt8(ascii: ":"))
                guard j.peek() == UInt8(ascii: "\"") else {
                    if Self.named(line, key, "metadata"), j.peek() == UInt8(ascii: "{") {
                        try readProperties(&j, into: &props)
                    } else {
                        _ = try j.skipValue(depth: 1)
                    }
                    continue
                }
                let value = try j.scanString()
                let range = value.start..<value.end
                if let i = Self.column(line, key) {
                    if values[i] == nil { values[i] = range }
                } else if Self.named(line, key, "ts") {
                    ts = Timestamp.parse(UnsafeBufferPointer(rebasing: line[range]))
                    tsText = range
                } else if Self.named(line, key, "received_at") {
                    receivedAt = Timestamp.parse(UnsafeBufferPointer(rebasing: line[range]))
                } else if Self.named(line, key, "id") {
                    id = range
                }
            }
        } catch {
            return nil
        }
        guard let ts, values[0] != nil else { return nil }
        // The canonical `ts` is always 2025-10-21T10:00:00.000Z: date and time are copied from it.
        var iso = tsText.map { Array(line[$0]) } ?? []
        if iso.count != 24 { iso = Array(Timestamp.string(ts).utf8) }
        out.append(contentsOf: #"{"site":""#.utf8)
        JSONString.appendEscaped(site.utf8, into: &out)
        out.append(contentsOf: #"","date":""#.utf8)
        out.append(contentsOf: iso[0..<10])
        out.append(contentsOf: #"","ts":""#.utf8)
        out.append(contentsOf: iso[0..<10])
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: iso[11..<19])
        out.append(contentsOf: "\",\"ts_ms\":\(ts),\"received_at_ms\":\(receivedAt ?? 0),\"log_position\":\(Self.logPosition(seq: seq, offset: offset)),\"key\":\"".utf8)
        if let id, !id.isEmpty {
            out.append(contentsOf: #"id:"#.utf8)
            out.append(contentsOf: line[id])
        } else {
            out.append(contentsOf: "\(instance)/\(seq)/\(offset)".utf8)
        }
        out.append(UInt8(ascii: "\""))
        for i in Self.names.indices {
            out.append(contentsOf: Self.prefixes[i])
            if let r = values[i] { out.append(contentsOf: line[r]) }
            out.append(UInt8(ascii: "\""))
        }
        Self.appendStrings(#","prop_keys":["#, props.map(\.key), to: &out)
        Self.appendStrings(#"],"prop_values":["#, props.map(\.value), to: &out)
        out.append(contentsOf: #"],"line":""#.utf8)
        JSONString.appendEscaped(line, into: &out)
        out.append(contentsOf: "\"}\n".utf8)
        return receivedAt ?? ts
    }

    /// `prefix`, then `strings` (already escaped) as comma-separated JSON strings.
    private static func appendStrings(_ prefix: StaticString, _ strings: [[UInt8]], to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        for (k, s) in strings.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: s)
            out.append(UInt8(ascii: "\""))
        }
    }

    /// The top-level scalars of `metadata` as the event table reads them: strings of at most 256 bytes, numbers and
    /// booleans as their JSON text, the first of a repeated key; keys and values in the log's canonical escaping.
    private func readProperties(_ j: inout JSONScanner, into props: inout [(key: [UInt8], value: [UInt8])]) throws(JSONScanner.Failure) {
        try j.expect(UInt8(ascii: "{"))
        var first = true
        while try j.nextElement(close: UInt8(ascii: "}"), first: &first) {
            let key = try j.scanString()
            try j.expect(UInt8(ascii: ":"))
            guard let c = j.peek() else { throw j.fail("unexpected end of JSON") }
            let start = j.index
            var value: [UInt8]?
            switch c {
            case UInt8(ascii: "\""):
                let v = try j.scanString()
                if (v.hasEscapes ? JSONString.unescape(j.bytes, v).count : v.end - v.start) <= LineParser.maxPropBytes {
                    value = LineParser.canonical(j.bytes, v)
                }
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                _ = try j.skipValue(depth: 2)
                value = Array(j.bytes[start..<j.index])
            default:
                _ = try j.skipValue(depth: 2)
            }
            guard let value else { continue }
            let k = LineParser.canonical(j.bytes, key)
            guard !props.contains(where: { $0.key == k }) else { continue }
            props.append((k, value))
        }
    }
}
