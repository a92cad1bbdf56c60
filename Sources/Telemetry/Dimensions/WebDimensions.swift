/// The dimensions an event's own `url` and `referrer` give (docs/dimensions.md): the page, the referring
/// host and the campaign parameters. Each works on the bytes of a string value with its JSON escapes resolved.
enum WebDimensions {
    /// The dimensions derived per event, in the order they are stored.
    enum Field: Int, CaseIterable {
        case page, referrer, utmSource, utmMedium, utmCampaign, utmTerm, utmContent

        var name: String {
            switch self {
            case .page: "page"
            case .referrer: "referrer"
            case .utmSource: "utm_source"
            case .utmMedium: "utm_medium"
            case .utmCampaign: "utm_campaign"
            case .utmTerm: "utm_term"
            case .utmContent: "utm_content"
            }
        }
    }

    /// Where the parts of a URL lie: the host (when the URL has one), the path, the query.
    struct URLParts {
        var host: Range<Int>?
        var path: Range<Int>
        var query: Range<Int>?
    }

    static func split(_ u: UnsafeBufferPointer<UInt8>) -> URLParts {
        let n = u.count
        var i = 0
        var host: Range<Int>?
        if let authority = authorityStart(u) {
            var end = authority
            while end < n, u[end] != 0x2F, u[end] != 0x3F, u[end] != 0x23 { end += 1 }
            host = authority..<end
            i = end
        }
        let pathStart = i
        while i < n, u[i] != 0x3F, u[i] != 0x23 { i += 1 }
        let path = pathStart..<i
        var query: Range<Int>?
        if i < n, u[i] == 0x3F {
            let start = i + 1
            var end = start
            while end < n, u[end] != 0x23 { end += 1 }
            query = start..<end
        }
        return URLParts(host: host, path: path, query: query)
    }

    /// The index after `scheme://` or a leading `//`, when the text has an authority.
    private static func authorityStart(_ u: UnsafeBufferPointer<UInt8>) -> Int? {
        if u.count >= 2, u[0] == 0x2F, u[1] == 0x2F { return 2 }
        var i = 0
        while i < u.count {
            let c = u[i]
            let isSchemeByte = (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || (i > 0 && ((c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D || c == 0x2E))
            if !isSchemeByte { break }
            i += 1
        }
        guard i > 0, i + 2 < u.count, u[i] == 0x3A, u[i + 1] == 0x2F, u[i + 2] == 0x2F else { return nil }
        return i + 3
    }

    /// The host of an authority: without credentials and port, lower case, without a leading `www.`.
    static func host(_ u: UnsafeBufferPointer<UInt8>, _ authority: Range<Int>) -> [UInt8]? {
        var start = authority.lowerBound
        for i in authority where u[i] == 0x40 { start = i + 1 }
        var end = authority.upperBound
        if start < end, u[start] == 0x5B {
            // [IPv6]:port
            if let close = (start..<end).first(where: { u[$0] == 0x5D }) { end = close + 1 }
        } else if let colon = (start..<end).first(where: { u[$0] == 0x3A }) {
            end = colon
        }
        var host = u[start..<end].map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        if host.starts(with: "www.".utf8), host.count > 4 { host.removeFirst(4) }
        while host.last == 0x2E { host.removeLast() }
        guard !host.isEmpty, !host.contains(where: { $0 <= 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return nil }
        return host
    }

    /// The referring host of a referrer URL (with or without a scheme); nil when it names none.
    static func referrerHost(_ r: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let parts = split(r)
        if let authority = parts.host { return host(r, authority) }
        // "google.com/search?q=x": the text before the first slash, when it looks like a host name.
        var end = 0
        while end < r.count, r[end] != 0x2F, r[end] != 0x3F, r[end] != 0x23 { end += 1 }
        guard end > 0, r[0..<end].contains(0x2E) else { return nil }
        return host(r, 0..<end)
    }

    /// The campaign values of a query, percent-decoded, by `Field` (`utmSource` … `utmContent`); `ref` and
    /// `source` stand for `utm_source` when it is absent. The first occurrence of a key wins.
    static func campaign(_ u: UnsafeBufferPointer<UInt8>, _ query: Range<Int>) -> [Field: [UInt8]] {
        var found: [Field: [UInt8]] = [:]
        var fallbackSource: [UInt8]?
        var i = query.lowerBound
        while i < query.upperBound {
            var end = i
            while end < query.upperBound, u[end] != 0x26 { end += 1 }
            var eq = i
            while eq < end, u[eq] != 0x3D { eq += 1 }
            if eq < end, let key = campaignKey(u[i..<eq]) {
                let value = decodeComponent(u[(eq + 1)..<end])
                if let value, !value.isEmpty {
                    switch key {
                    case .some(let field): if found[field] == nil { found[field] = value }
                    case .none: if fallbackSource == nil { fallbackSource = value }
                    }
                }
            }
            i = end + 1
        }
        if found[.utmSource] == nil, let fallbackSource { found[.utmSource] = fallbackSource }
        return found
    }

    /// The field a query key names: `.some(field)` for the utm keys, `.some(nil)` for `ref`/`source`, nil otherwise.
    private static func campaignKey(_ key: Slice<UnsafeBufferPointer<UInt8>>) -> Field?? {
        switch key.count {
        case 3 where key.elementsEqual("ref".utf8): return .some(nil)
        case 6 where key.elementsEqual("source".utf8): return .some(nil)
        case 8 where key.elementsEqual("utm_term".utf8): return .some(.utmTerm)
        case 10 where key.elementsEqual("utm_source".utf8): return .some(.utmSource)
        case 10 where key.elementsEqual("utm_medium".utf8): return .some(.utmMedium)
        case 11 where key.elementsEqual("utm_content".utf8): return .some(.utmContent)
        case 12 where key.elementsEqual("utm_campaign".utf8): return .some(.utmCampaign)
        default: return nil
        }
    }

    /// `+` as a space and `%XX` as its byte; a malformed escape stays as written; nil when the result is not UTF-8.
    static func decodeComponent(_ s: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = s.startIndex
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        while i < s.endIndex {
            let c = s[i]
            if c == 0x25, i + 2 < s.endIndex, let h = hex(s[i + 1]), let l = hex(s[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(c == 0x2B ? 0x20 : c)
                i += 1
            }
        }
        guard String(validating: out, as: UTF8.self) != nil else { return nil }
        return out
    }
}
