extension EventDecoder {
    private static let keyPrefixes: [[UInt8]] = Field.allCases.map { Array(",\"\($0.name)\":\"".utf8) }
    private static let lineStart = Array("{\"ts\":\"".utf8)
    private static let metadataKey = Array(",\"metadata\":".utf8)
    private static let receivedKey = Array(",\"received_at\":\"".utf8)
    private static let lineEnd = Array("\"}\n".utf8)

    /// Writes the canonical line (SPEC §5.1) of every valid, recent event.
    func emit(_ pending: [Pending], spans: Spans, body: UnsafeBufferPointer<UInt8>, receivedAt: Int64, skew: Int64) -> DecodedBatch {
        var batch = DecodedBatch()
        batch.lines.reserveCapacity(body.count + pending.count * 64)
        batch.records.reserveCapacity(pending.count)
        var received: [UInt8] = []
        Timestamp.write(receivedAt, into: &received)
        for (index, p) in pending.enumerated() {
            if let error = p.error {
                batch.rejected.append(.init(index: index, error: error))
                continue
            }
            var ts = p.ts.map { $0 + skew } ?? receivedAt
            if ts > receivedAt + Self.futureToleranceMs { ts = receivedAt }
            if ts < receivedAt - Self.maxAgeMs {
                batch.ignored += 1
                continue
            }
            let lineStart = batch.lines.count
            batch.lines.append(contentsOf: Self.lineStart)
            Timestamp.write(ts, into: &batch.lines)
            batch.lines.append(0x22)
            var record = EventRecord(ts: ts, line: 0..<0, eventType: 0..<0)
            for field in Field.allCases {
                guard let span = spans[index, field] else { continue }
                batch.lines.append(contentsOf: Self.keyPrefixes[field.rawValue])
                let start = batch.lines.count
                if span.hasEscapes {
                    JSONString.appendEscaped(JSONString.unescape(body, span), into: &batch.lines)
                } else {
                    batch.lines.append(contentsOf: UnsafeBufferPointer(rebasing: body[span.start..<span.end]))
                }
                let range = start..<batch.lines.count
                switch field {
                case .eventType: record.eventType = range
                case .feature: record.feature = range
                case .userId: record.user = range
                case .id: record.id = range
                default: break
                }
                batch.lines.append(0x22)
            }
            if let metadata = p.metadata {
                batch.lines.append(contentsOf: Self.metadataKey)
                if p.metadataIsCompact {
                    batch.lines.append(contentsOf: UnsafeBufferPointer(rebasing: body[metadata]))
                } else {
                    Self.forEachMinified(body, metadata) { batch.lines.append($0) }
                }
            }
            batch.lines.append(contentsOf: Self.receivedKey)
            batch.lines.append(contentsOf: received)
            batch.lines.append(contentsOf: Self.lineEnd)
            record.line = lineStart..<batch.lines.count
            batch.records.append(record)
        }
        return batch
    }
}
