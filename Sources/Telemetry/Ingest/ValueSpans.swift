/// Where the values the event table keeps lie in a stored line, as offsets from the line's start: the decoder
/// notes them as it writes the line, so the index applier takes them without reading the line again
/// (`LineParser.add(_:spans:in:seq:to:hasher:)`).
public struct ValueSpans: Sendable {
    /// The values, by index: each context slot at its raw value, then the page and the metadata object.
    static let page = Dimension.ContextSlot.allCases.count
    static let metadata = page + 1
    static let count = metadata + 1

    /// Start and end of each value; a start of 0 is a value the line lacks (no value starts a line).
    private var bounds = InlineArray<34, UInt32>(repeating: 0)

    init() { precondition(bounds.count == 2 * Self.count, "ValueSpans holds a start and an end per value") }

    /// The offsets of value `i` in its line, nil when the line has none.
    @inline(__always)
    subscript(_ i: Int) -> Range<Int>? {
        let start = bounds[2 * i]
        return start == 0 ? nil : Int(start)..<Int(bounds[2 * i + 1])
    }

    /// Notes value `i` at `range`, offsets from the line's start.
    @inline(__always)
    mutating func set(_ i: Int, _ range: Range<Int>) {
        bounds[2 * i] = UInt32(range.lowerBound)
        bounds[2 * i + 1] = UInt32(range.upperBound)
    }
}
