/// Looks up the ISO 3166-1 alpha-2 country of an IP address in a MaxMind-format database held in memory.
///
/// Reads the MaxMind DB format (https://maxmind.github.io/MaxMind-DB/) of GeoLite2-Country and DB-IP's country
/// files: a binary search tree over the address bits whose records lead into a data section of typed values,
/// then the marker `\xAB\xCD\xEFMaxMind.com` and a metadata map. A lookup walks the tree, then only the maps on
/// the way to `country` → `iso_code`, comparing keys as bytes, so it allocates nothing. Every read of the file
/// is bounds-checked: a damaged file fails `init` or answers nil, and never traps.
public final class CountryDatabase: Sendable {
    /// Why a database could not be opened, in one line that names the file.
    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    /// The metadata's `database_type`, such as "GeoLite2-Country" or "DBIP-Country-Lite".
    public let databaseType: String

    private let file: [UInt8]
    private let tree: SearchTree
    /// The data section: from after the search tree and its 16-byte separator to the metadata marker.
    private let data: Range<Int>

    /// Reads the database at `path` and checks its metadata and that its search tree fits in the file.
    public init(path: String) throws(Error) {
        let file: [UInt8]
        do {
            file = try FileSystem.readAll(path)
        } catch {
            throw Error(description: "cannot read country database: \(error)")
        }
        let layout: Layout
        do {
            layout = try file.withUnsafeBufferPointer { buffer throws(Layout.Problem) in try Layout(buffer) }
        } catch {
            throw Error(description: "country database \(path) \(error.reason)")
        }
        self.file = file
        databaseType = layout.databaseType
        tree = layout.tree
        data = layout.data
    }

    /// The upper-case `country.iso_code` of `address` ("81.2.69.142", "2001:db8::1", "::ffff:1.2.3.4"), or
    /// `registered_country.iso_code` when the record has no country code; nil when the address is not text of
    /// an IP address, the database has no record for it, or the record is damaged.
    public func country(of address: String) -> String? {
        guard let address = IPAddress(address) else { return nil }
        return file.withUnsafeBufferPointer { file in
            guard let record = tree.dataOffset(of: address, in: file) else { return nil }
            let values = DataSection(file: file, range: data)
            return values.isoCode(under: "country", inMapAt: record) ?? values.isoCode(under: "registered_country", inMapAt: record)
        }
    }
}

// MARK: - Layout

/// Where the parts of a database lie, as read from its metadata.
private struct Layout {
    /// Why a file is not a database this reader can use; completes "country database PATH ...".
    struct Problem: Swift.Error {
        var reason: String
    }

    var databaseType: String
    var tree: SearchTree
    var data: Range<Int>

    /// The metadata marker, searched for in the last 128 KiB of the file.
    private static let marker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)
    private static let markerSearchWindow = 128 * 1024

    /// Finds the metadata, checks the fields a lookup relies on, and that the tree lies before the marker.
    init(_ file: UnsafeBufferPointer<UInt8>) throws(Problem) {
        guard let markerStart = Self.lastMarker(in: file) else {
            throw Problem(reason: "is not a MaxMind DB: no metadata marker (truncated file?)")
        }
        let metadata = DataSection(file: file, range: (markerStart + Self.marker.count)..<file.count)
        func number(_ key: StaticString) -> Int? { metadata.value(of: key, inMapAt: 0).flatMap(metadata.unsigned) }

        guard let version = number("binary_format_major_version") else {
            throw Problem(reason: "is not a MaxMind DB: its metadata has no binary_format_major_version")
        }
        guard version == 2 else { throw Problem(reason: "has binary format version \(version); only version 2 is supported") }
        guard let recordSize = number("record_size") else { throw Problem(reason: "has no record_size in its metadata") }
        guard [24, 28, 32].contains(recordSize) else { throw Problem(reason: "has unsupported record size \(recordSize) (supported: 24, 28, 32)") }
        guard let ipVersion = number("ip_version"), ipVersion == 4 || ipVersion == 6 else {
            throw Problem(reason: "has no ip_version 4 or 6 in its metadata")
        }
        guard let databaseType = metadata.value(of: "database_type", inMapAt: 0).flatMap(metadata.string) else {
            throw Problem(reason: "has no database_type in its metadata")
        }
        guard let nodeCount = number("node_count"), nodeCount <= UInt32.max else {
            throw Problem(reason: "has no valid node_count in its metadata")
        }
        let treeEnd = nodeCount * recordSize / 4
        guard treeEnd + 16 <= markerStart else {
            throw Problem(reason: "is damaged: its search tree of \(nodeCount) nodes runs past the data section")
        }
        self.databaseType = databaseType
        tree = SearchTree(nodeCount: nodeCount, recordSize: recordSize, ipVersion: ipVersion, in: file)
        data = (treeEnd + 16)..<markerStart
    }

    /// Where the last metadata marker starts.
    private static func lastMarker(in file: UnsafeBufferPointer<UInt8>) -> Int? {
        guard file.count >= marker.count else { return nil }
        let lowest = max(0, file.count - markerSearchWindow)
        return stride(from: file.count - marker.count, through: lowest, by: -1).first { start in
            file[start..<(start + marker.count)].elementsEqual(marker)
        }
    }
}

// MARK: - Search tree

/// The binary search tree at the start of the file: `nodeCount` nodes of two records (left for a 0 bit, right
/// for a 1 bit). A record below `nodeCount` is the next node, `nodeCount` itself means "no data", and above
/// it is `nodeCount + 16 +` an offset in the data section.
private struct SearchTree: Sendable {
    let nodeCount: Int
    let recordSize: Int
    let ipVersion: Int
    /// Where IPv4 lookups start: the root of an IPv4 tree, or what 96 zero bits lead to in an IPv6 tree.
    private(set) var ipv4Start = 0

    /// A tree whose `nodeCount` nodes of `recordSize`-bit records the caller checked lie in `file`.
    init(nodeCount: Int, recordSize: Int, ipVersion: Int, in file: UnsafeBufferPointer<UInt8>) {
        self.nodeCount = nodeCount
        self.recordSize = recordSize
        self.ipVersion = ipVersion
        if ipVersion == 6 { ipv4Start = walk(from: walk(from: 0, bits: 0, count: 64, in: file), bits: 0, count: 32, in: file) }
    }

    /// The offset in the data section of the record for `address`; nil when there is none or the tree is damaged.
    func dataOffset(of address: IPAddress, in file: UnsafeBufferPointer<UInt8>) -> Int? {
        let record: Int
        switch address {
        case .v4(let v4):
            record = walk(from: ipv4Start, bits: UInt64(v4) << 32, count: 32, in: file)
        case .v6(let v6):
            guard ipVersion == 6 else { return nil }
            let high = walk(from: 0, bits: UInt64(truncatingIfNeeded: v6 >> 64), count: 64, in: file)
            record = walk(from: high, bits: UInt64(truncatingIfNeeded: v6), count: 64, in: file)
        }
        // Below nodeCount the tree is deeper than an address (damaged); nodeCount itself is "no data";
        // nodeCount + 1 ..< nodeCount + 16 would point into the separator (damaged).
        let offset = record - nodeCount - 16
        return offset >= 0 ? offset : nil
    }

    /// The record reached from `node` by the top `count` bits of `bits`, stopping early at a record that is no node.
    private func walk(from node: Int, bits: UInt64, count: Int, in file: UnsafeBufferPointer<UInt8>) -> Int {
        var node = node
        var bits = bits
        for _ in 0..<count {
            guard node < nodeCount else { break }
            node = record(of: node, right: bits >> 63 != 0, in: file)
            bits <<= 1
        }
        return node
    }

    /// One record of `node` (< `nodeCount`, so within the tree that init checked lies inside the file).
    private func record(of node: Int, right: Bool, in file: UnsafeBufferPointer<UInt8>) -> Int {
        func uint24(_ at: Int) -> Int { Int(file[at]) << 16 | Int(file[at + 1]) << 8 | Int(file[at + 2]) }
        switch recordSize {
        case 24:
            return uint24(node * 6 + (right ? 3 : 0))
        case 28:
            // Left: the middle byte's high nibble, then bytes 0-2; right: its low nibble, then bytes 4-6.
            let start = node * 7
            let middle = Int(file[start + 3])
            return right ? (middle & 0x0F) << 24 | uint24(start + 4) : (middle & 0xF0) << 20 | uint24(start)
        default:
            let start = node * 8 + (right ? 4 : 0)
            return Int(file[start]) << 24 | uint24(start + 1)
        }
    }
}

// MARK: - Data section

/// A bounds-checked reader of MaxMind DB values in `file[range]`. Offsets, and the pointers in the data, are
/// relative to the section's start. Every function answers nil for data that is malformed or out of bounds.
private struct DataSection {
    /// The data types, from the control byte's top three bits or, for 0 ("extended"), 7 + the next byte.
    enum Kind: UInt8 {
        case pointer = 1, string, double, bytes, uint16, uint32, map, int32, uint64, uint128, array
        case dataCacheContainer, endMarker, boolean, float

        /// Whether `size` counts bytes of payload after the header (maps and arrays count entries,
        /// booleans hold their value in it, pointers hold their target).
        var hasPayloadBytes: Bool {
            switch self {
            case .pointer, .map, .array, .boolean, .dataCacheContainer, .endMarker: false
            default: true
            }
        }
    }

    /// A value's header.
    struct Header {
        var kind: Kind
        /// Bytes of payload, entries of a map or array, a boolean's value, or a pointer's target offset.
        var size: Int
        /// Where the payload, or a map's or array's first entry, starts.
        var payload: Int

        /// Where the next value starts, for all but maps and arrays (whose entries follow the header).
        var next: Int { kind.hasPayloadBytes ? payload + size : payload }
    }

    /// Nesting deeper than this is taken for damage (country records nest three deep).
    static let maximumDepth = 64

    let file: UnsafeBufferPointer<UInt8>
    let range: Range<Int>

    private var count: Int { range.count }

    /// The byte at `offset`, when it lies in the section.
    private func byte(at offset: Int) -> Int? {
        offset >= 0 && offset < count ? Int(file[range.lowerBound + offset]) : nil
    }

    /// `count` (at most 8) bytes at `offset` as a big-endian number, when they lie in the section.
    private func bigEndian(at offset: Int, count: Int) -> Int? {
        guard offset >= 0, offset + count <= self.count else { return nil }
        let start = range.lowerBound + offset
        return (start..<(start + count)).reduce(0) { $0 << 8 | Int(file[$1]) }
    }

    /// The header at `offset`, when it and any payload bytes lie in the section.
    func header(at offset: Int) -> Header? {
        guard let control = byte(at: offset) else { return nil }
        var cursor = offset + 1
        var type = control >> 5
        if type == Int(Kind.pointer.rawValue) { return pointer(control, at: cursor) }
        if type == 0 {
            guard let extended = byte(at: cursor), (1...8).contains(extended) else { return nil }
            type = 7 + extended
            cursor += 1
        }
        guard let kind = Kind(rawValue: UInt8(type)) else { return nil }
        var size = control & 0x1F
        if size >= 29 {
            // 29, 30 and 31 mean 1, 2 or 3 more bytes of size, which start where the shorter forms end.
            let extra = size - 28
            guard let more = bigEndian(at: cursor, count: extra) else { return nil }
            size = more + (extra == 1 ? 29 : extra == 2 ? 285 : 65_821)
            cursor += extra
        }
        let header = Header(kind: kind, size: size, payload: cursor)
        return header.next <= count ? header : nil
    }

    /// A pointer's header: the control byte's size bits give 1 to 4 more bytes, and its low three bits the
    /// target's top bits (except with 4 bytes); each longer form starts where the shorter one ends.
    private func pointer(_ control: Int, at cursor: Int) -> Header? {
        let length = (control >> 3 & 0x3) + 1
        guard let low = bigEndian(at: cursor, count: length) else { return nil }
        let target: Int
        switch length {
        case 1: target = (control & 0x7) << 8 | low
        case 2: target = ((control & 0x7) << 16 | low) + 2_048
        case 3: target = ((control & 0x7) << 24 | low) + 526_336
        default: target = low
        }
        return Header(kind: .pointer, size: target, payload: cursor + length)
    }

    /// The value a header stands for: itself, or what its pointer points at (which may not be a pointer).
    private func resolve(_ header: Header) -> Header? {
        guard header.kind == .pointer else { return header }
        guard let target = self.header(at: header.size), target.kind != .pointer else { return nil }
        return target
    }

    /// The value at `offset`, through a pointer.
    private func value(at offset: Int) -> Header? { header(at: offset).flatMap(resolve) }

    /// Where the value at `offset` ends; pointers are stepped over, not followed.
    private func end(ofValueAt offset: Int, depth: Int = 0) -> Int? {
        guard depth < Self.maximumDepth, let header = header(at: offset) else { return nil }
        switch header.kind {
        case .map: return end(ofValues: header.size * 2, from: header.payload, depth: depth + 1)
        case .array: return end(ofValues: header.size, from: header.payload, depth: depth + 1)
        case .dataCacheContainer, .endMarker: return nil
        default: return header.next
        }
    }

    /// Where `count` consecutive values from `offset` end. Each takes at least a byte, so a damaged count
    /// stops at the section's end.
    private func end(ofValues count: Int, from offset: Int, depth: Int) -> Int? {
        var cursor = offset
        for _ in 0..<count {
            guard let next = end(ofValueAt: cursor, depth: depth) else { return nil }
            cursor = next
        }
        return cursor
    }

    /// The offset of the value of `key` in the map at `offset` (through a pointer), when the map has that key.
    func value(of key: StaticString, inMapAt offset: Int) -> Int? {
        guard let map = value(at: offset), map.kind == .map else { return nil }
        var cursor = map.payload
        for _ in 0..<map.size {
            guard let keyHeader = header(at: cursor), let name = resolve(keyHeader), name.kind == .string else { return nil }
            if bytes(of: name, equal: key) { return keyHeader.next }
            guard let next = end(ofValueAt: keyHeader.next) else { return nil }
            cursor = next
        }
        return nil
    }

    /// Whether a string's bytes are `key`'s.
    private func bytes(of string: Header, equal key: StaticString) -> Bool {
        let start = range.lowerBound + string.payload
        return string.size == key.utf8CodeUnitCount
            && UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount).elementsEqual(file[start..<(start + string.size)])
    }

    /// The unsigned integer (uint16 to uint128, when it fits 63 bits) at `offset`.
    func unsigned(at offset: Int) -> Int? {
        guard let number = value(at: offset), [.uint16, .uint32, .uint64, .uint128].contains(number.kind), number.size <= 8,
              let value = bigEndian(at: number.payload, count: number.size), value >= 0
        else { return nil }
        return value
    }

    /// The string at `offset`.
    func string(at offset: Int) -> String? {
        guard let string = value(at: offset), string.kind == .string else { return nil }
        let start = range.lowerBound + string.payload
        return String(decoding: file[start..<(start + string.size)], as: UTF8.self)
    }

    /// `key` → `iso_code` in the record (a map) at `offset`, upper-cased, when it is two ASCII letters.
    func isoCode(under key: StaticString, inMapAt offset: Int) -> String? {
        guard let country = value(of: key, inMapAt: offset), let code = value(of: "iso_code", inMapAt: country),
              let string = value(at: code), string.kind == .string, string.size == 2
        else { return nil }
        let start = range.lowerBound + string.payload
        let letters = (file[start], file[start + 1])
        guard Self.isLetter(letters.0), Self.isLetter(letters.1) else { return nil }
        return String(unsafeUninitializedCapacity: 2) { out in
            out[0] = letters.0 & ~0x20
            out[1] = letters.1 & ~0x20
            return 2
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) }
}

// MARK: - Addresses

/// An IP address parsed from text. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as dual-stack sockets
/// report IPv4 peers) is its IPv4 address, so it is found in IPv4-only databases and in IPv6 ones alike.
private enum IPAddress {
    case v4(UInt32)
    case v6(UInt128)

    private static let colon = UInt8(ascii: ":")
    private static let dot = UInt8(ascii: ".")

    init?(_ text: String) {
        var text = text
        guard let address = text.withUTF8(Self.parse) else { return nil }
        self = address
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        guard text.contains(colon) else { return parseIPv4(text[...]).map(IPAddress.v4) }
        guard let v6 = parseIPv6(text) else { return nil }
        return v6 >> 32 == 0xFFFF ? .v4(UInt32(truncatingIfNeeded: v6)) : .v6(v6)
    }

    /// "a.b.c.d": four decimal octets up to 255, without leading zeros (which some parsers read as octal).
    private static func parseIPv4(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> UInt32? {
        var address: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in text {
            if byte == dot {
                guard digits > 0, dots < 3 else { return nil }
                address = address << 8 | octet
                (octet, digits, dots) = (0, 0, dots + 1)
            } else {
                guard let digit = decimalValue(byte), !(digits > 0 && octet == 0) else { return nil }
                octet = octet * 10 + digit
                digits += 1
                guard octet <= 255 else { return nil }
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return address << 8 | octet
    }

    /// RFC 4291 text: eight groups of 1 to 4 hex digits, or fewer with one "::" standing for the zero groups
    /// left out; the last 32 bits may be written as a dotted quad.
    private static func parseIPv6(_ text: UnsafeBufferPointer<UInt8>) -> UInt128? {
        var head: UInt128 = 0 // the groups before "::", or all of them without one
        var tail: UInt128 = 0 // the groups after "::"
        var groups = 0
        var headGroups: Int?  // set at "::"
        var i = 0
        if text.count >= 2 && text[0] == colon && text[1] == colon {
            headGroups = 0
            i = 2
        }
        while i < text.count {
            var group: UInt128 = 0
            var bits = 16
            var j = i
            while j < text.count, j - i <= 4, let digit = hexValue(text[j]) {
                group = group << 4 | UInt128(digit)
                j += 1
            }
            if j < text.count && text[j] == dot {
                guard let v4 = parseIPv4(text[i...]) else { return nil }
                (group, bits, j) = (UInt128(v4), 32, text.count)
            } else {
                guard (1...4).contains(j - i) else { return nil }
            }
            groups += bits / 16
            guard groups <= 8 else { return nil }
            if headGroups == nil { head = head << bits | group } else { tail = tail << bits | group }
            i = j
            guard i < text.count else { break }
            guard text[i] == colon, i + 1 < text.count else { return nil }
            i += 1
            if text[i] == colon {
                guard headGroups == nil else { return nil }
                headGroups = groups
                i += 1
            }
        }
        guard let headGroups else { return groups == 8 ? head : nil }
        guard groups < 8 else { return nil }
        return head << (16 * (8 - headGroups)) | tail
    }

    private static func decimalValue(_ byte: UInt8) -> UInt32? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? UInt32(byte - UInt8(ascii: "0")) : nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        if let digit = decimalValue(byte) { return UInt8(digit) }
        let lower = byte | 0x20
        return (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(lower) ? lower - UInt8(ascii: "a") + 10 : nil
    }
}
