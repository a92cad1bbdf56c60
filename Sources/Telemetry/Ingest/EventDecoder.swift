/// Decodes, validates and re-encodes a POST body into canonical log lines in one pass over the bytes.
public struct EventDecoder: Sendable {
    public static let maxEvents = 100
    public static let maxBodyBytes = 1 << 20
    public static let maxMetadataBytes = 4096
    public static let maxMetadataDepth = 4
    public static let futureToleranceMs: Int64 = 5 * Milliseconds.minute
    public static let maxAgeMs: Int64 = 365 * Milliseconds.day

    public init() {}

    /// The event string fields, in the order they are written to the log.
    enum Field: Int, CaseIterable {
        static let count = 11
        /// The fields stored as sent, in log order (the `referrer` is stored as its host, a dimension).
        static let stored = allCases.filter { $0 != .referrer }

        case eventType, id, userId, feature, url, sessionId, channel, platform, deviceId, clientVersion, referrer

        var name: StaticString {
            switch self {
            case .eventType: "event_type"
            case .id: "id"
            case .userId: "user_id"
            case .feature: "feature"
            case .url: "url"
            case .sessionId: "session_id"
            case .channel: "channel"
            case .platform: "platform"
            case .deviceId: "device_id"
            case .clientVersion: "client_version"
            case .referrer: "referrer"
            }
        }

        var limits: ClosedRange<Int> {
            switch self {
            case .eventType: 1...64
            case .id: 1...64
            case .userId, .feature: 1...128
            case .url, .referrer: 0...2048
            case .sessionId, .channel, .platform, .deviceId, .clientVersion: 0...128
            }
        }
    }

    /// What is known of one event while the body is scanned; lines are written once `sent_at` is known.
    /// Its string fields live in `Spans`, `Field.count` slots per event.
    struct Pending {
        var ts: Int64?
        var metadata: Range<Int>?
        /// The metadata bytes hold no insignificant whitespace and can be copied as they are.
        var metadataIsCompact = false
        var error: String?
    }

    /// The string-field spans of every event of a batch, in one flat array (no allocation per event).
    struct Spans {
        static let absent = JSONScanner.StringSpan(start: -1, end: -1, hasEscapes: false, scalarCount: 0)
        var storage: [JSONScanner.StringSpan] = []

        mutating func addEvent() { storage.append(contentsOf: repeatElement(Self.absent, count: Field.count)) }

        @inline(__always)
        subscript(event: Int, field: Field) -> JSONScanner.StringSpan? {
            get {
                let span = storage[event &* Field.count &+ field.rawValue]
                return span.start < 0 ? nil : span
            }
            set { storage[event &* Field.count &+ field.rawValue] = newValue ?? Self.absent }
        }
    }

    /// What a key of an event object names.
    enum Key {
        case field(Field), ts, metadata, other

        /// Dispatches on length and first byte before comparing, so unknown keys cost little.
        @inline(__always)
        init(_ s: JSONScanner, _ key: JSONScanner.StringSpan) {
            func named(_ n: StaticString) -> Bool { s.equals(key, n) }
            switch key.end - key.start {
            case 2: self = named("id") ? .field(.id) : named("ts") ? .ts : .other
            case 3: self = named("url") ? .field(.url) : .other
            case 7: self = named("user_id") ? .field(.userId) : named("feature") ? .field(.feature) : named("channel") ? .field(.channel) : .other
            case 8: self = named("platform") ? .field(.platform) : named("metadata") ? .metadata : named("referrer") ? .field(.referrer) : .other
            case 9: self = named("device_id") ? .field(.deviceId) : .other
            case 10: self = named("event_type") ? .field(.eventType) : named("session_id") ? .field(.sessionId) : .other
            case 14: self = named("client_version") ? .field(.clientVersion) : .other
            default: self = .other
            }
        }
    }

    /// Decodes `body` received at `receivedAt` (epoch ms).
    public func decode(
        _ body: UnsafeBufferPointer<UInt8>, receivedAt: Int64, dimensions: RequestDimensions = .none, schemas: EventSchemas? = nil
    ) throws(BatchError) -> DecodedBatch {
        guard body.count <= Self.maxBodyBytes else {
            throw BatchError(kind: .tooLarge, message: "body exceeds 1 MiB")
        }
        var s = JSONScanner(body)
        var pending: [Pending] = []
        var spans = Spans()
        pending.reserveCapacity(Self.maxEvents)
        spans.storage.reserveCapacity(Self.maxEvents * Field.count)
        var sentAt: Int64?
        var sawEvents = false
        var sawSentAt = false
        var site: String?
        var sawSite = false
        var webdriver = false
        do {
            guard s.peek() == UInt8(ascii: "{") else {
                throw BatchError(kind: .badRequest, message: "body must be a JSON object with an \"events\" array")
            }
            s.index += 1
            var first = true
            while try s.nextElement(close: UInt8(ascii: "}"), first: &first) {
                let key = try s.scanString()
                try s.expect(UInt8(ascii: ":"))
                let name = key.hasEscapes ? JSONString.unescape(body, key) : Array(body[key.start..<key.end])
                if name.elementsEqual("events".utf8) {
                    guard !sawEvents else { throw BatchError(kind: .badRequest, message: "duplicate key \"events\"") }
                    sawEvents = true
                    guard s.peek() == UInt8(ascii: "[") else {
                        if s.atEnd { throw s.fail("unexpected end of JSON") }
                        throw BatchError(kind: .badRequest, message: "\"events\" must be an array")
                    }
                    s.index += 1
                    var firstEvent = true
                    while try s.nextElement(close: UInt8(ascii: "]"), first: &firstEvent) {
                        guard pending.count < Self.maxEvents else {
                            throw BatchError(kind: .tooLarge, message: "at most \(Self.maxEvents) events per batch")
                        }
                        spans.addEvent()
                        pending.append(try scanEvent(&s, spans: &spans, event: pending.count))
                    }
                } else if name.elementsEqual("sent_at".utf8) {
                    guard !sawSentAt else { throw BatchError(kind: .badRequest, message: "duplicate key \"sent_at\"") }
                    sawSentAt = true
                    switch try scanTimestamp(&s) {
                    case .value(let v): sentAt = v
                    case .null: sentAt = nil
                    case .invalid:
                        throw BatchError(kind: .badRequest, message: "sent_at must be an RFC 3339 timestamp or epoch milliseconds")
                    }
                } else if name.elementsEqual("webdriver".utf8) {
                    if s.peek() == UInt8(ascii: "t") {
                        try s.scanLiteral("true")
                        webdriver = true
                    } else {
                        try s.skipValue(depth: 1)
                    }
                } else if name.elementsEqual("site".utf8) {
                    guard !sawSite else { throw BatchError(kind: .badRequest, message: "duplicate key \"site\"") }
                    sawSite = true
                    if s.peek() == UInt8(ascii: "n") {
                        try s.skipValue(depth: 1)
                    } else {
                        guard s.peek() == UInt8(ascii: "\"") else { throw BatchError(kind: .badRequest, message: "site must be a site id string") }
                        let span = try s.scanString()
                        let text = String(decoding: span.hasEscapes ? JSONString.unescape(body, span) : Array(body[span.start..<span.end]), as: UTF8.self)
                        guard SiteDefinition.isValid(id: text) else {
                            throw BatchError(kind: .badRequest, message: "site must match ^[a-z0-9][a-z0-9_-]{0,31}$")
                        }
                        site = text
                    }
                } else {
                    try s.skipValue(depth: 1)
                }
            }
            guard s.peek() == nil else { throw s.fail("unexpected data after the JSON value") }
        } catch let failure as JSONScanner.Failure {
            throw BatchError(kind: .badRequest, message: "invalid JSON at byte \(failure.offset): \(failure.reason)")
        } catch let error as BatchError {
            throw error
        } catch {
            throw BatchError(kind: .badRequest, message: "invalid JSON")
        }
        guard sawEvents else {
            throw BatchError(kind: .badRequest, message: "body must be a JSON object with an \"events\" array")
        }
        guard !pending.isEmpty else { throw BatchError(kind: .badRequest, message: "\"events\" must not be empty") }
        if let schemas {
            for i in pending.indices where pending[i].error == nil {
                guard let type = spans[i, .eventType] else { continue }
                pending[i].error = schemas.violation(
                    type: UnsafeBufferPointer(rebasing: body[type.start..<type.end]), metadata: pending[i].metadata, in: body)
            }
        }
        var batch = emit(pending, spans: spans, body: body, receivedAt: receivedAt, skew: sentAt.map { receivedAt - $0 } ?? 0,
                         dimensions: dimensions)
        batch.site = site
        batch.webdriver = webdriver
        batch.receivedAt = receivedAt
        if batch.records.isEmpty && batch.ignored == 0 {
            throw BatchError(kind: .badRequest, message: "no valid event in the batch", rejected: batch.rejected)
        }
        return batch
    }

    enum TimestampValue { case value(Int64), null, invalid }

    private func scanTimestamp(_ s: inout JSONScanner) throws(JSONScanner.Failure) -> TimestampValue {
        guard let c = s.peek() else { throw s.fail("unexpected end of JSON") }
        switch c {
        case UInt8(ascii: "\""):
            let span = try s.scanString()
            guard !span.hasEscapes,
                let v = Timestamp.parse(UnsafeBufferPointer(rebasing: s.bytes[span.start..<span.end]))
            else { return .invalid }
            return .value(v)
        case UInt8(ascii: "n"):
            try s.scanLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let n = try s.scanNumber()
            let digits = n.end - n.start
            guard n.isInteger, digits <= 16 else { return .invalid }
            var v: Int64 = 0
            var negative = false
            for i in n.start..<n.end {
                if s.bytes[i] == 0x2D { negative = true } else { v = v * 10 + Int64(s.bytes[i] - 0x30) }
            }
            return .value(negative ? -v : v)
        default:
            try s.skipValue(depth: 2)
            return .invalid
        }
    }

    private func scanEvent(_ s: inout JSONScanner, spans: inout Spans, event: Int) throws(JSONScanner.Failure) -> Pending {
        var p = Pending()
        guard s.peek() == UInt8(ascii: "{") else {
            try s.skipValue(depth: 2)
            p.error = "event must be a JSON object"
            return p
        }
        s.index += 1
        var first = true
        var seen = 0
        var sawTs = false
        while try s.nextElement(close: UInt8(ascii: "}"), first: &first) {
            let keySpan = try s.scanString()
            try s.expect(UInt8(ascii: ":"))
            let key: Key
            if keySpan.hasEscapes {
                // Rare: resolve the escapes, then name the key from the plain bytes.
                let plain = JSONString.unescape(s.bytes, keySpan)
                key = plain.withUnsafeBufferPointer { Key(JSONScanner($0), .init(start: 0, end: $0.count, hasEscapes: false, scalarCount: 0)) }
            } else {
                key = Key(s, keySpan)
            }
            switch key {
            case .field(let field):
                let bit = 1 << field.rawValue
                if seen & bit != 0, p.error == nil { p.error = "duplicate key \"\(field.name)\"" }
                seen |= bit
                try scanField(field, &s, into: &p, spans: &spans, event: event)
            case .ts:
                if sawTs, p.error == nil { p.error = "duplicate key \"ts\"" }
                sawTs = true
                switch try scanTimestamp(&s) {
                case .value(let v): p.ts = v
                case .null: p.ts = nil
                case .invalid: if p.error == nil { p.error = "ts must be an RFC 3339 timestamp or epoch milliseconds" }
                }
            case .metadata:
                if p.metadata != nil, p.error == nil { p.error = "duplicate key \"metadata\"" }
                try scanMetadata(&s, into: &p)
            case .other:
                try s.skipValue(depth: 2)
            }
        }
        if p.error == nil, spans[event, .eventType] == nil { p.error = "event_type is required" }
        return p
    }

    private func scanField(
        _ field: Field, _ s: inout JSONScanner, into p: inout Pending, spans: inout Spans, event: Int
    ) throws(JSONScanner.Failure) {
        switch s.peek() {
        case UInt8(ascii: "\""):
            let span = try s.scanString()
            guard p.error == nil else { return }
            if field == .userId && span.isEmpty { return }
            if field == .eventType {
                guard !span.hasEscapes, Self.isValidEventType(s.bytes, span) else {
                    p.error = "event_type must match ^[a-z][a-z0-9_]{0,63}$"
                    return
                }
            } else if !field.limits.contains(span.scalarCount) || (span.hasEscapes && !field.limits.contains(
                String(decoding: JSONString.unescape(s.bytes, span), as: UTF8.self).unicodeScalars.count))
            {
                let range = field.limits
                p.error = range.lowerBound == 0
                    ? "\(field.name) must be at most \(range.upperBound) characters"
                    : "\(field.name) must be a string of \(range.lowerBound)-\(range.upperBound) characters"
                return
            }
            spans[event, field] = span
        case UInt8(ascii: "n"):
            try s.scanLiteral("null")
        default:
            try s.skipValue(depth: 2)
            if p.error == nil { p.error = "\(field.name) must be a string" }
        }
    }

    private func scanMetadata(_ s: inout JSONScanner, into p: inout Pending) throws(JSONScanner.Failure) {
        switch s.peek() {
        case UInt8(ascii: "{"):
            let start = s.index
            let depth = try s.skipValue(depth: 2)
            guard p.error == nil else { return }
            if depth > Self.maxMetadataDepth {
                p.error = "metadata nesting exceeds \(Self.maxMetadataDepth) levels"
            } else {
                let length = Self.minifiedLength(s.bytes, start..<s.index)
                if length > Self.maxMetadataBytes {
                    p.error = "metadata exceeds \(Self.maxMetadataBytes) bytes"
                } else {
                    p.metadata = start..<s.index
                    p.metadataIsCompact = length == s.index - start
                }
            }
        case UInt8(ascii: "n"):
            try s.scanLiteral("null")
        default:
            try s.skipValue(depth: 2)
            if p.error == nil { p.error = "metadata must be a JSON object" }
        }
    }

    static func isValidEventType(_ b: UnsafeBufferPointer<UInt8>, _ span: JSONScanner.StringSpan) -> Bool {
        let n = span.end - span.start
        guard n >= 1, n <= 64 else { return false }
        let c0 = b[span.start]
        guard c0 >= 0x61 && c0 <= 0x7A else { return false }
        for i in (span.start + 1)..<span.end {
            let c = b[i]
            guard (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F else { return false }
        }
        return true
    }

    /// Bytes of a validated JSON value without insignificant whitespace.
    static func minifiedLength(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Int {
        // Whitespace and control bytes are all below 0x21, and a validated value holds no control byte outside
        // an escape: with no byte below 0x21 the value is already minified (eight bytes at a time).
        if let base = b.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101
            var i = r.lowerBound
            var low: UInt64 = 0
            while i + 8 <= r.upperBound && low == 0 {
                let x = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                low = (x &- ones &* 0x21) & ~x & (ones &* 0x80)
                i += 8
            }
            while i < r.upperBound && low == 0 {
                if b[i] < 0x21 { low = 1 }
                i += 1
            }
            if low == 0 { return r.count }
        }
        var n = 0
        forEachMinified(b, r) { _ in n += 1 }
        return n
    }

    @inline(__always)
    static func forEachMinified(_ b: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, _ body: (UInt8) -> Void) {
        var inString = false
        var escaped = false
        for i in r {
            let c = b[i]
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
                body(c)
            } else if c == 0x22 {
                inString = true
                body(c)
            } else if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 {
                body(c)
            }
        }
    }
}
