/// The `filter=` parameters of a request (docs/dimensions.md): every condition must hold.
public struct EventFilter: Sendable, Equatable {
    public struct Condition: Sendable, Equatable {
        public var dimension: Dimension
        public var negated: Bool
        /// Decoded values; `none` stands for "the event has no such dimension".
        public var values: [String]
    }

    /// The value that matches events without the dimension.
    public static let none = "(none)"

    public var conditions: [Condition] = []
    public var isEmpty: Bool { conditions.isEmpty }

    public init() {}

    /// Parses `DIM:VALUE`, `DIM!:VALUE` and `DIM:A|B` (already percent-decoded).
    public init(_ texts: [String]) throws(FilterError) {
        for text in texts {
            let (name, rest) = try Self.splitDimension(text)
            guard let dimension = Dimension(name: name.hasSuffix("!") ? name.dropLast() : name[...]) else {
                throw FilterError("unknown dimension \"\(name.hasSuffix("!") ? String(name.dropLast()) : name)\" in filter \"\(text)\"; use one of \(Dimension.names.joined(separator: ", "))")
            }
            let values = rest.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard !values.contains(where: \.isEmpty) else { throw FilterError("filter \"\(text)\" has an empty value") }
            conditions.append(Condition(dimension: dimension, negated: name.hasSuffix("!"), values: values))
        }
    }

    /// `DIM` (with its `!`) and the values: the dimension ends at the first `:` (`prop:KEY` at the second).
    private static func splitDimension(_ text: String) throws(FilterError) -> (String, Substring) {
        var searchFrom = text.startIndex
        if text.hasPrefix(Dimension.propPrefix) { searchFrom = text.index(text.startIndex, offsetBy: Dimension.propPrefix.count) }
        guard let colon = text[searchFrom...].firstIndex(of: ":") else {
            throw FilterError("filter \"\(text)\" must be DIM:VALUE, DIM!:VALUE or DIM:A|B")
        }
        return (String(text[..<colon]), text[text.index(after: colon)...])
    }
}

/// A malformed `filter=`: a 400 with this reason.
public struct FilterError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
