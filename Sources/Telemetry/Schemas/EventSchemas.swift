import Foundation

/// Event schemas (docs/schemas.md): per event type, the metadata keys it requires or allows, their types,
/// enums, lengths and ranges, and whether event types without a schema are accepted. An event that breaks its
/// schema is rejected alone; its error starts with the path (`metadata.plan: expected one of free, pro`).
public struct EventSchemas: Sendable, Equatable {
    public struct Property: Sendable, Equatable {
        public enum Kind: String, Sendable { case string, number, boolean }
        var kind: Kind
        var required = false
        var strings: [String]?
        var numbers: [Double]?
        var maxLength: Int?
        var min: Double?
        var max: Double?
    }

    public struct TypeSchema: Sendable, Equatable {
        var properties: [String: Property]
        /// Property names sorted, so the first missing required key named in an error does not depend on hashing.
        var order: [String]
        /// Metadata keys beyond `properties` are allowed.
        var additional: Bool
    }

    var rejectUnknownTypes: Bool
    var types: [String: TypeSchema]
    /// `types` for ingest: bytes and arrays instead of strings and dictionaries.
    var compiled: [Compiled] = []
    /// The file as read, served by `GET /api/analytics/schemas`.
    public let text: String

    /// Parses and checks a schemas file; the error names what is wrong and where.
    public init(json data: Data) throws(ConfigurationError) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("must be a JSON object with \"types\"")
        }
        for key in object.keys where key != "unknown_types" && key != "types" { throw ConfigurationError("unknown key \"\(key)\"") }
        if let value = object["unknown_types"], !(value is String) { throw ConfigurationError("unknown_types must be allow or reject") }
        switch object["unknown_types"] as? String ?? "allow" {
        case "allow": rejectUnknownTypes = false
        case "reject": rejectUnknownTypes = true
        case let other: throw ConfigurationError("unknown_types must be allow or reject, not \"\(other)\"")
        }
        guard let types = object["types"] as? [String: Any] else { throw ConfigurationError("\"types\" must be an object") }
        var parsed: [String: TypeSchema] = [:]
        for (name, value) in types {
            guard EventType.isValid(name) else { throw ConfigurationError("types.\(name): not a valid event type") }
            guard let schema = value as? [String: Any] else { throw ConfigurationError("types.\(name) must be an object") }
            for key in schema.keys where key != "metadata" && key != "additional" {
                throw ConfigurationError("types.\(name): unknown key \"\(key)\"")
            }
            guard let additional = schema["additional"].map({ Self.isBoolean($0) ? $0 as? Bool : nil }) ?? true else {
                throw ConfigurationError("types.\(name).additional must be true or false")
            }
            var properties: [String: Property] = [:]
            var order: [String] = []
            if let metadata = schema["metadata"] {
                guard let metadata = metadata as? [String: Any] else { throw ConfigurationError("types.\(name).metadata must be an object") }
                for (key, spec) in metadata.sorted(by: { $0.key < $1.key }) {
                    properties[key] = try Self.property(spec, path: "types.\(name).metadata.\(key)")
                    order.append(key)
                }
            }
            parsed[name] = TypeSchema(properties: properties, order: order, additional: additional)
        }
        self.types = parsed
        compiled = Self.compile(parsed)
        text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public static func read(_ path: String) throws(ConfigurationError) -> EventSchemas {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError("cannot read the event schemas \(path)") }
        do {
            return try EventSchemas(json: data)
        } catch {
            throw ConfigurationError("event schemas \(path): \(error.description)")
        }
    }

    private static func property(_ value: Any, path: String) throws(ConfigurationError) -> Property {
        guard let spec = value as? [String: Any] else { throw ConfigurationError("\(path) must be an object") }
        for key in spec.keys where !["type", "required", "enum", "max_length", "min", "max"].contains(key) {
            throw ConfigurationError("\(path): unknown key \"\(key)\"")
        }
        guard let kind = (spec["type"] as? String).flatMap(Property.Kind.init(rawValue:)) else {
            throw ConfigurationError("\(path).type must be string, number or boolean")
        }
        var p = Property(kind: kind)
        if let required = spec["required"] {
            guard Self.isBoolean(required), let flag = required as? Bool else {
                throw ConfigurationError("\(path).required must be true or false")
            }
            p.required = flag
        }
        func number(_ key: String) throws(ConfigurationError) -> Double? {
            guard let v = spec[key] else { return nil }
            guard let n = v as? NSNumber, !Self.isBoolean(v) else { throw ConfigurationError("\(path).\(key) must be a number") }
            return n.doubleValue
        }
        if let values = spec["enum"] {
            switch kind {
            case .string:
                guard let strings = values as? [String], !strings.isEmpty else { throw ConfigurationError("\(path).enum must be a list of strings") }
                p.strings = strings
            case .number:
                guard let numbers = values as? [NSNumber], !numbers.isEmpty else { throw ConfigurationError("\(path).enum must be a list of numbers") }
                p.numbers = numbers.map(\.doubleValue)
            case .boolean:
                throw ConfigurationError("\(path): enum applies to strings and numbers")
            }
        }
        if let length = spec["max_length"] {
            guard kind == .string, let n = length as? Int, n >= 0 else { throw ConfigurationError("\(path).max_length must be a count, for strings") }
            p.maxLength = n
        }
        p.min = try number("min")
        p.max = try number("max")
        if (p.min != nil || p.max != nil) && kind != .number { throw ConfigurationError("\(path): min and max apply to numbers") }
        return p
    }

    /// A type's schema in the form ingest reads: names as bytes, matched without building strings.
    struct Compiled: Sendable, Equatable {
        var type: String
        var typeBytes: [UInt8]
        var names: [[UInt8]]
        var properties: [Property]
        /// Allowed string values as bytes, by property.
        var allowed: [[[UInt8]]?]
        var additional: Bool
    }

    static func compile(_ types: [String: TypeSchema]) -> [Compiled] {
        types.keys.sorted().map { name in
            let t = types[name]!
            return Compiled(
                type: name, typeBytes: Array(name.utf8), names: t.order.map { Array($0.utf8) }, properties: t.order.map { t.properties[$0]! },
                allowed: t.order.map { t.properties[$0]!.strings?.map { Array($0.utf8) } }, additional: t.additional)
        }
    }

    /// Why the event breaks its schema, or nil. `type` is the event type's bytes; `metadata` the event's
    /// metadata object within `bytes` (nil when the event has none).
    func violation(type: UnsafeBufferPointer<UInt8>, metadata: Range<Int>?, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let schema = compiled.first(where: { $0.typeBytes.elementsEqual(type) }) else {
            return rejectUnknownTypes
                ? "event_type: \(String(decoding: type, as: UTF8.self)) has no schema and unknown types are rejected" : nil
        }
        // Which properties the event has: a bit each for the first 64 (no allocation per event), an array beyond.
        var seenBits: UInt64 = 0
        var seenMore = schema.properties.count > 64 ? [Bool](repeating: false, count: schema.properties.count) : []
        if let metadata {
            var s = JSONScanner(UnsafeBufferPointer(rebasing: bytes[..<metadata.upperBound]))
            s.index = metadata.lowerBound
            do {
                try s.expect(UInt8(ascii: "{"))
                var first = true
                while try s.nextElement(close: UInt8(ascii: "}"), first: &first) {
                    let keySpan = try s.scanString()
                    try s.expect(UInt8(ascii: ":"))
                    let index: Int?
                    if keySpan.hasEscapes {
                        let plain = JSONString.unescape(bytes, keySpan)
                        index = schema.names.firstIndex { $0 == plain }
                    } else {
                        let raw = UnsafeBufferPointer(rebasing: bytes[keySpan.start..<keySpan.end])
                        index = schema.names.firstIndex { $0.elementsEqual(raw) }
                    }
                    func key() -> String {
                        String(decoding: keySpan.hasEscapes ? JSONString.unescape(bytes, keySpan) : Array(bytes[keySpan.start..<keySpan.end]), as: UTF8.self)
                    }
                    guard let index else {
                        if !schema.additional { return "metadata.\(key()): not allowed for \(schema.type)" }
                        try s.skipValue(depth: 2)
                        continue
                    }
                    if s.peek() == UInt8(ascii: "n") {
                        try s.scanLiteral("null")
                        continue
                    }
                    if index < 64 { seenBits |= 1 << UInt64(index) } else { seenMore[index] = true }
                    if let problem = try Self.check(schema.properties[index], schema.allowed[index], &s, bytes) { return "metadata.\(key()): \(problem)" }
                }
            } catch {
                return "metadata: invalid JSON"
            }
        }
        for (i, property) in schema.properties.enumerated() where property.required && !(i < 64 ? seenBits & (1 << UInt64(i)) != 0 : seenMore[i]) {
            return "metadata.\(String(decoding: schema.names[i], as: UTF8.self)): required"
        }
        return nil
    }

    private static func check(
        _ p: Property, _ allowedBytes: [[UInt8]]?, _ s: inout JSONScanner, _ bytes: UnsafeBufferPointer<UInt8>
    ) throws(JSONScanner.Failure) -> String? {
        switch p.kind {
        case .string:
            guard s.peek() == UInt8(ascii: "\"") else {
                try s.skipValue(depth: 2)
                return "expected a string"
            }
            let span = try s.scanString()
            if let max = p.maxLength, span.scalarCount > max { return "longer than \(max) characters" }
            if let allowedBytes, let allowed = p.strings {
                let found = span.hasEscapes
                    ? allowedBytes.contains(JSONString.unescape(bytes, span))
                    : allowedBytes.contains { $0.elementsEqual(UnsafeBufferPointer(rebasing: bytes[span.start..<span.end])) }
                if !found { return "expected one of \(allowed.joined(separator: ", "))" }
            }
        case .number:
            guard let c = s.peek(), c == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else {
                try s.skipValue(depth: 2)
                return "expected a number"
            }
            let n = try s.scanNumber()
            let value = Double(String(decoding: bytes[n.start..<n.end], as: UTF8.self)) ?? .nan
            if let allowed = p.numbers, !allowed.contains(value) {
                return "expected one of \(allowed.map { Self.text($0) }.joined(separator: ", "))"
            }
            if let min = p.min, value < min { return "must be at least \(Self.text(min))" }
            if let max = p.max, value > max { return "must be at most \(Self.text(max))" }
        case .boolean:
            switch s.peek() {
            case UInt8(ascii: "t"): try s.scanLiteral("true")
            case UInt8(ascii: "f"): try s.scanLiteral("false")
            default:
                try s.skipValue(depth: 2)
                return "expected true or false"
            }
        }
        return nil
    }

    /// JSON `true`/`false` as Foundation decodes them (an NSNumber of type char), not the numbers 1 and 0.
    static func isBoolean(_ v: Any) -> Bool {
        if v is Bool && !(v is NSNumber) { return true }
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c" || String(cString: n.objCType) == "B"
    }

    static func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
}
