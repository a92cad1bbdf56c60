/// Turns stored lines into the rows of the events table, as `JSONEachRow` text (docs/clickhouse.md).
struct ClickHouseRow {
    let site: String
    /// Names events without an `id`: `<instance>/<seq>/<offset>`, the same on every resend of that line.
    let instance: String

    private static let columnIndex: [String: Int] = {
        var m: [String: Int] = [:]
        for (i, c) in ClickHouseSchema.stringColumns.enumerated() { m[c.name] = i }
        return m
    }()

    /// The line's place in this instance's log, as one number that sorts like (segment, offset): the tie-break of
    /// entry and exit pages between events of one millisecond.
    static func logPosition(seq: Int, offset: Int) -> UInt64 { UInt64(seq) << 40 | UInt64(offset) }

    /// Appends the row of `line` (a stored line without its `\n`, read at `offset` of segment `seq`) and a
    /// newline to `out`; false (and nothing appended) when the line does not parse.
    func append(_ line: UnsafeBufferPointer<UInt8>, seq: Int, offset: Int, to out: inout [UInt8]) -> Bool {
        var values = [Range<Int>?](repeating: nil, count: ClickHouseSchema.stringColumns.count)
        var ts: Int64?
        var receivedAt: Int64 = 0
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
                    if j.equals(key, "metadata"), j.peek() == UInt8(ascii: "{") {
                        try readProperties(&j, into: &props)
                    } else {
                        _ = try j.skipValue(depth: 1)
                    }
                    continue
                }
                let value = try j.scanString()
                let range = value.start..<value.end
                let name = String(decoding: UnsafeBufferPointer(rebasing: line[key.start..<key.end]), as: UTF8.self)
                switch name {
                case "ts": ts = Timestamp.parse(UnsafeBufferPointer(rebasing: line[range]))
                case "received_at": receivedAt = Timestamp.parse(UnsafeBufferPointer(rebasing: line[range])) ?? 0
                case "id": id = range
                default:
                    if let i = Self.columnIndex[name], values[i] == nil { values[i] = range }
                }
            }
        } catch {
            return false
        }
        guard let ts, values[0] != nil else { return false }
        let iso = Array(Timestamp.string(ts).utf8)  // 2025-10-21T10:00:00.000Z
        out.append(contentsOf: #"{"site":""#.utf8)
        JSONString.appendEscaped(Array(site.utf8), into: &out)
        out.append(contentsOf: #"","date":""#.utf8)
        out.append(contentsOf: iso[0..<10])
        out.append(contentsOf: #"","ts":""#.utf8)
        out.append(contentsOf: iso[0..<10])
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: iso[11..<19])
        out.append(contentsOf: "\",\"ts_ms\":\(ts),\"received_at_ms\":\(receivedAt),\"log_position\":\(Self.logPosition(seq: seq, offset: offset)),\"key\":\"".utf8)
        if let id, !id.isEmpty {
            out.append(contentsOf: #"id:"#.utf8)
            out.append(contentsOf: line[id])
        } else {
            out.append(contentsOf: "\(instance)/\(seq)/\(offset)".utf8)
        }
        out.append(UInt8(ascii: "\""))
        for (i, column) in ClickHouseSchema.stringColumns.enumerated() {
            out.append(contentsOf: ",\"\(column.name)\":\"".utf8)
            if let r = values[i] { out.append(contentsOf: line[r]) }
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #","prop_keys":["#.utf8)
        for (k, p) in props.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: p.key)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #"],"prop_values":["#.utf8)
        for (k, p) in props.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: p.value)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #"],"line":""#.utf8)
        JSONString.appendEscaped(Array(line), into: &out)
        out.append(contentsOf: "\"}\n".utf8)
        return true
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
