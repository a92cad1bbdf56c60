extension EventDecoder {
    /// The page, referrer and campaign of every event of a batch, escaped for the log, in one buffer.
    struct DerivedValues {
        static let fieldCount = WebDimensions.Field.allCases.count
        var bytes: [UInt8] = []
        private var ranges: [Range<Int>?] = []

        init(events: Int) { ranges = Array(repeating: nil, count: events * Self.fieldCount) }

        subscript(event: Int, field: WebDimensions.Field) -> Range<Int>? {
            ranges[event * Self.fieldCount + field.rawValue]
        }

        mutating func set(_ event: Int, _ field: WebDimensions.Field, _ value: (some Sequence<UInt8>)?) {
            guard let value else { return }
            let start = bytes.count
            JSONString.appendEscaped(value, into: &bytes)
            ranges[event * Self.fieldCount + field.rawValue] = start..<bytes.count
        }
    }

    /// Derives the event-level dimensions (docs/dimensions.md) of the valid events.
    func derive(_ pending: [Pending], spans: Spans, body: UnsafeBufferPointer<UInt8>) -> DerivedValues {
        var derived = DerivedValues(events: pending.count)
        for (index, p) in pending.enumerated() where p.error == nil {
            var urlHost: [UInt8]?
            if let span = spans[index, .url] {
                Self.withContent(body, span) { u in
                    let parts = WebDimensions.split(u)
                    if !parts.path.isEmpty {
                        derived.set(index, .page, UnsafeBufferPointer(rebasing: u[parts.path]))
                    } else if parts.host != nil {
                        derived.set(index, .page, CollectionOfOne(UInt8(ascii: "/")))  // a URL with a host and no path
                    }
                    if let query = parts.query {
                        for (field, value) in WebDimensions.campaign(u, query) { derived.set(index, field, value) }
                    }
                    urlHost = parts.host.flatMap { WebDimensions.host(u, $0) }
                }
            }
            // An empty `referrer` field says nothing: `metadata.referrer` may still name one.
            let field = spans[index, .referrer].flatMap { $0.start < $0.end ? $0 : nil }
            let referrerSpan = field ?? p.metadata.flatMap { Self.topLevelString(body, in: $0, key: "referrer") }
            if let referrerSpan {
                let host = Self.withContent(body, referrerSpan) { WebDimensions.referrerHost($0) }
                // A link within the same site is navigation, not a referral.
                if host != urlHost { derived.set(index, .referrer, host) }
            }
        }
        return derived
    }

    /// Runs `body` over a string span's content with its escapes resolved.
    static func withContent<R>(_ b: UnsafeBufferPointer<UInt8>, _ span: JSONScanner.StringSpan, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if span.hasEscapes { return JSONString.unescape(b, span).withUnsafeBufferPointer(body) }
        return body(UnsafeBufferPointer(rebasing: b[span.start..<span.end]))
    }

    /// The span of a top-level string member `key` of the (validated) JSON object at `object`.
    static func topLevelString(_ b: UnsafeBufferPointer<UInt8>, in object: Range<Int>, key: StaticString) -> JSONScanner.StringSpan? {
        var s = JSONScanner(UnsafeBufferPointer(rebasing: b[..<object.upperBound]))
        s.index = object.lowerBound
        do {
            try s.expect(UInt8(ascii: "{"))
            var first = true
            while try s.nextElement(close: UInt8(ascii: "}"), first: &first) {
                let name = try s.scanString()
                try s.expect(UInt8(ascii: ":"))
                if s.equals(name, key), s.peek() == UInt8(ascii: "\"") { return try s.scanString() }
                try s.skipValue(depth: 2)
            }
        } catch {}
        return nil
    }
}
