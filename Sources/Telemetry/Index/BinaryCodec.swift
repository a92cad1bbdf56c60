import CTelemetryShims

/// Little-endian binary records with a magic, a version and a CRC-32 trailer.
package struct BinaryWriter {
    package var bytes: [UInt8] = []

    package init(magic: String, version: UInt8) {
        bytes.append(contentsOf: magic.utf8)
        bytes.append(version)
    }

    mutating func reserve(_ n: Int) { bytes.reserveCapacity(n) }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func int(_ v: Int) { u64(UInt64(bitPattern: Int64(v))) }
    mutating func blob(_ b: [UInt8]) {
        u32(UInt32(b.count))
        bytes.append(contentsOf: b)
    }

    /// The record with its checksum appended.
    package func sealed() -> [UInt8] {
        var out = bytes
        let crc = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))) }
        return out
    }
}

struct BinaryReader {
    struct Damaged: Error {}

    let bytes: [UInt8]
    var at: Int

    /// Checks magic, version and checksum; the reader then starts after the header.
    init(_ bytes: [UInt8], magic: String, version: UInt8) throws(Damaged) {
        let header = Array(magic.utf8) + [version]
        guard bytes.count >= header.count + 4, Array(bytes[0..<header.count]) == header else { throw Damaged() }
        let body = bytes.count - 4
        let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[body + $1]) << (8 * UInt32($1)) }
        let crc = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt(body))) }
        guard crc == stored else { throw Damaged() }
        self.bytes = Array(bytes[0..<body])
        self.at = header.count
    }

    mutating func u64() throws(Damaged) -> UInt64 {
        guard at + 8 <= bytes.count else { throw Damaged() }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        at += 8
        return v
    }

    mutating func u32() throws(Damaged) -> UInt32 {
        guard at + 4 <= bytes.count else { throw Damaged() }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[at + i]) << (8 * UInt32(i)) }
        at += 4
        return v
    }

    mutating func int() throws(Damaged) -> Int { Int(Int64(bitPattern: try u64())) }

    mutating func blob() throws(Damaged) -> [UInt8] {
        let n = Int(try u32())
        guard at + n <= bytes.count else { throw Damaged() }
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }

    var atEnd: Bool { at == bytes.count }
}
