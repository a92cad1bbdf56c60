/// A column of 32-bit dictionary ids kept in as few bits per row as its values need (docs/architecture.md).
///
/// A date's types, features, pages and context tuples need 4 to 16 bits, its users and sessions 17 to 22, its
/// milliseconds 27: packed, a row takes about 15 bytes where nine `UInt32`s took 36. Rows are appended in log
/// order; a value that does not fit widens the column (a copy, rare: at most once per extra bit). `compact()`
/// then stores the values less their smallest, in the width that leaves, and drops the spare capacity.
///
/// The highest code of the width stands for `DayColumns.none`, whichever width the column has. Codes are
/// read with one unaligned 64-bit load, so the words hold at least one spare word after the last code.
struct PackedColumn: Sendable {
    private var words: [UInt64] = [0, 0]
    /// Where the words are once the date's columns went to the column file (`words` is then empty).
    private var stored: (region: ColumnRegion, at: Int)?
    private(set) var count = 0
    /// Bits per row, 1...32 (values are below `UInt32.max`, which is `none`).
    private var width = 1
    /// What the stored codes are less than the values.
    private var offset: UInt32 = 0

    /// Reads the codes of a column that does not change meanwhile: what the scans' loops use.
    struct Reader: RandomAccessCollection {
        let bytes: UnsafeRawPointer
        let count: Int
        let width: Int
        let mask: UInt64
        let offset: UInt32

        var startIndex: Int { 0 }
        var endIndex: Int { count }

        @inline(__always)
        subscript(i: Int) -> UInt32 {
            // Scans stay within `indices`; debug builds (the tests) check it.
            assert(UInt(bitPattern: i) < UInt(bitPattern: count), "row out of range")
            let bit = i &* width
            let raw = (bytes.loadUnaligned(fromByteOffset: bit &>> 3, as: UInt64.self).littleEndian &>> UInt64(bit & 7)) & mask
            return raw == mask ? DayColumns.none : UInt32(truncatingIfNeeded: raw) &+ offset
        }
    }

    private var mask: UInt64 { (1 << UInt64(width)) - 1 }

    @inline(__always)
    func withReader<R>(_ body: (Reader) throws -> R) rethrows -> R {
        if let stored {
            return try body(Reader(bytes: stored.region.base + stored.at, count: count, width: width, mask: mask, offset: offset))
        }
        return try words.withUnsafeBytes { try body(Reader(bytes: $0.baseAddress!, count: count, width: width, mask: mask, offset: offset)) }
    }

    /// Whether the words are in the column file.
    var isStored: Bool { stored != nil }

    /// The column file's region the words are in.
    var region: ColumnRegion? { stored?.region }

    /// The packed words, for the column file to store.
    var packedWords: [UInt64] { words }

    /// Reads the words from `region`, `at` bytes in, from now on (they were `packedWords`).
    mutating func move(to region: ColumnRegion, at: Int) {
        stored = (region, at)
        words = []
    }

    @inline(__always)
    subscript(i: Int) -> UInt32 { withReader { $0[i] } }

    /// Every value, in row order.
    func decoded() -> [UInt32] { map { $0 } }

    func map<T>(_ transform: (UInt32) throws -> T) rethrows -> [T] { try withReader { try $0.map(transform) } }

    func contains(_ value: UInt32) -> Bool { withReader { $0.contains(value) } }

    /// Whether `value` has a code in the column's present width and offset.
    @inline(__always)
    private func fits(_ value: UInt32) -> Bool {
        // A stored column is read-only: appending copies it back to the heap.
        stored == nil && (value == DayColumns.none || (value >= offset && UInt64(value - offset) < mask))
    }

    mutating func append(_ value: UInt32) {
        if !fits(value) { repack(including: value, spare: true) }
        let code = value == DayColumns.none ? mask : UInt64(value - offset)
        let bit = count &* width
        let word = bit &>> 6
        let shift = bit & 63
        if words.count < word + 2 { words.append(contentsOf: repeatElement(0, count: word + 2 - words.count)) }
        // One uniqueness check for both words (this runs nine times per ingested event).
        words.withUnsafeMutableBufferPointer { w in
            w[word] |= code &<< UInt64(shift)
            if shift + width > 64 { w[word + 1] |= code &>> UInt64(64 - shift) }
        }
        count += 1
    }

    /// Stores the values in the fewest bits they need, less their smallest, in words of exactly that length.
    mutating func compact() { repack(including: nil, spare: false) }

    /// Rewrites the column in a width and offset that hold its values and `value`: with spare capacity and an
    /// offset of zero while rows are still being appended, exactly sized and offset by the smallest otherwise.
    private mutating func repack(including value: UInt32?, spare: Bool) {
        var (low, high) = withReader { r in
            var range = (low: UInt32.max, high: UInt32(0))
            for v in r where v != DayColumns.none { range = (min(range.low, v), max(range.high, v)) }
            return range
        }
        if let value, value != DayColumns.none { (low, high) = (min(low, value), max(high, value)) }
        let newOffset = spare || low > high ? 0 : low
        // The codes 0...high - offset, plus the all-ones code for `none`.
        let span = UInt64(high >= newOffset ? high - newOffset : 0) + 1
        var bits = 1
        while (UInt64(1) << UInt64(bits)) - 1 < span { bits += 1 }
        let newMask = (UInt64(1) << UInt64(bits)) - 1
        var packed = [UInt64](repeating: 0, count: (count + (value == nil ? 0 : 1)) * bits / 64 + 2)
        if spare { packed.reserveCapacity(2 * packed.count) }
        // Straight from the old words to the new (this runs on a column of a million rows when late events
        // reopen a packed date).
        withReader { r in
            packed.withUnsafeMutableBufferPointer { w in
                for i in r.indices {
                    let v = r[i]
                    let code = v == DayColumns.none ? newMask : UInt64(v &- newOffset)
                    let bit = i &* bits
                    let shift = bit & 63
                    w[bit &>> 6] |= code &<< UInt64(shift)
                    if shift + bits > 64 { w[(bit &>> 6) + 1] |= code &>> UInt64(64 - shift) }
                }
            }
        }
        words = packed
        stored = nil
        width = bits
        offset = newOffset
    }

    var memoryBytes: Int { words.capacity * 8 }
}
