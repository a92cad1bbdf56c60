extension EventDecoder {
    /// Every constant piece of a canonical line, in one table: `{"ts":"`, then `","<field>":"` per field, …
    private static let pieces: (bytes: [UInt8], ranges: [Range<Int>]) = {
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        let keys = Field.stored.map { "\($0.name)" } + WebDimensions.Field.allCases.map(\.name) + RequestDimensions.Field.allCases.map(\.name)
        let texts = ["{\"ts\":\""] + keys.map { ",\"\($0)\":\"" } + [",\"metadata\":", ",\"received_at\":\"", "\"}\n"]
        for text in texts {
            let start = bytes.count
            bytes += Array(text.utf8)
            ranges.append(start..<bytes.count)
        }
        return (bytes, ranges)
    }()
    private static let lineStartPiece = 0
    private static let webPiece = 1 + Field.stored.count
    private static let requestPiece = webPiece + WebDimensions.Field.allCases.count
    private static let metadataPiece = requestPiece + RequestDimensions.Field.allCases.count
    private static let receivedPiece = metadataPiece + 1
    private static let lineEndPiece = metadataPiece + 2
    /// The longest line an event can add beyond the body bytes and derived values it copies: every piece, the
    /// closing quote of `ts` and of every field, both timestamps.
    private static let maxLineOverhead = pieces.bytes.count + 1 + (lineEndPiece - 1) + 2 * Timestamp.maxLength

    /// Writes the canonical line (docs/files.md) of every valid, recent event.
    ///
    /// A canonical value is never longer than its source (an escape sequence re-escapes to at most its own length,
    /// minified metadata to at most its bytes), so the lines fit in `body.count` plus a fixed overhead per event,
    /// and are written through one pointer without a capacity check per byte.
    func emit(
        _ pending: [Pending], spans: Spans, body: UnsafeBufferPointer<UInt8>, receivedAt: Int64, skew: Int64,
        dimensions: RequestDimensions
    ) -> DecodedBatch {
        var batch = DecodedBatch()
        batch.records.reserveCapacity(pending.count)
        let derived = dimensions.derive ? derive(pending, spans: spans, body: body) : DerivedValues(events: 0)
        let capacity = body.count + derived.bytes.count + pending.count * (Self.maxLineOverhead + dimensions.bytesPerEvent)
        batch.lines = Self.pieces.bytes.withUnsafeBufferPointer { table in
            let ranges = Self.pieces.ranges
            // The request's dimensions are the same in every line of the batch: their bytes once.
            var requestPart: [UInt8] = []
            if dimensions.derive {
                for field in RequestDimensions.Field.allCases {
                    guard let value = dimensions.values[field.rawValue] else { continue }
                    requestPart += table[ranges[Self.requestPiece + field.rawValue]]
                    requestPart += value
                    requestPart.append(0x22)
                }
            }
            return [UInt8](unsharedCapacity: capacity) { buffer, count in
                derived.bytes.withUnsafeBufferPointer { derivedBytes in
                    requestPart.withUnsafeBufferPointer { requestPart in
                        var out = LineWriter(base: buffer.baseAddress!)
                        var received: [UInt8] = []
                        Timestamp.write(receivedAt, into: &received)
                        var day = Timestamp.DayDigits()
                        @inline(__always) func piece(_ i: Int) { out.append(UnsafeBufferPointer(rebasing: table[ranges[i]])) }
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
                            let lineStart = out.count
                            piece(Self.lineStartPiece)
                            Timestamp.write(ts, into: &out, day: &day)
                            out.append(0x22)
                            var record = EventRecord(ts: ts, line: 0..<0, eventType: 0..<0)
                            for field in Field.stored {
                                guard let span = spans[index, field] else { continue }
                                piece(1 + field.rawValue)
                                let start = out.count
                                if span.hasEscapes {
                                    var escaped: [UInt8] = []
                                    JSONString.appendEscaped(JSONString.unescape(body, span), into: &escaped)
                                    escaped.withUnsafeBufferPointer { out.append($0) }
                                } else {
                                    out.append(UnsafeBufferPointer(rebasing: body[span.start..<span.end]))
                                }
                                let range = start..<out.count
                                switch field {
                                case .eventType: record.eventType = range
                                case .feature: record.feature = range
                                case .userId: record.user = range
                                case .id: record.id = range
                                case .sessionId: record.session = range
                                default: break
                                }
                                out.append(0x22)
                            }
                            if dimensions.derive {
                                for field in WebDimensions.Field.allCases {
                                    guard let range = derived[index, field] else { continue }
                                    piece(Self.webPiece + field.rawValue)
                                    out.append(UnsafeBufferPointer(rebasing: derivedBytes[range]))
                                    out.append(0x22)
                                }
                                out.append(requestPart)
                            }
                            if let metadata = p.metadata {
                                piece(Self.metadataPiece)
                                if p.metadataIsCompact {
                                    out.append(UnsafeBufferPointer(rebasing: body[metadata]))
                                } else {
                                    Self.forEachMinified(body, metadata) { out.append($0) }
                                }
                            }
                            piece(Self.receivedPiece)
                            received.withUnsafeBufferPointer { out.append($0) }
                            piece(Self.lineEndPiece)
                            record.line = lineStart..<out.count
                            batch.records.append(record)
                        }
                        precondition(out.count <= capacity, "canonical lines overran their bound")
                        count = out.count
                    }
                }
            }
        }
        return batch
    }
}

/// Appends bytes through a raw pointer into memory sized beforehand.
struct LineWriter: TimestampSink {
    let base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>) { self.base = base }

    @inline(__always) mutating func append(_ byte: UInt8) {
        base[count] = byte
        count &+= 1
    }

    @inline(__always) mutating func append(dateDigits digits: (UInt64, UInt32)) {
        UnsafeMutableRawPointer(base + count).storeBytes(of: digits.0, as: UInt64.self)
        UnsafeMutableRawPointer(base + count + 8).storeBytes(of: digits.1, as: UInt32.self)
        count &+= 11
    }

    @inline(__always) mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        (base + count).update(from: source, count: bytes.count)
        count &+= bytes.count
    }

}
