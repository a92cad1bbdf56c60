/// SipHash-2-4: the keyed 64-bit hash that stands for a user id in the day aggregates.
public struct SipHash: Sendable {
    let k0: UInt64
    let k1: UInt64

    public init(key: [UInt8]) {
        precondition(key.count == 16)
        var a: UInt64 = 0
        var b: UInt64 = 0
        for i in 0..<8 { a |= UInt64(key[i]) << (8 * UInt64(i)) }
        for i in 0..<8 { b |= UInt64(key[8 + i]) << (8 * UInt64(i)) }
        k0 = a
        k1 = b
    }

    public func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ k1
        @inline(__always) func round() {
            v0 = v0 &+ v1; v1 = (v1 << 13) | (v1 >> 51); v1 ^= v0; v0 = (v0 << 32) | (v0 >> 32)
            v2 = v2 &+ v3; v3 = (v3 << 16) | (v3 >> 48); v3 ^= v2
            v0 = v0 &+ v3; v3 = (v3 << 21) | (v3 >> 43); v3 ^= v0
            v2 = v2 &+ v1; v1 = (v1 << 17) | (v1 >> 47); v1 ^= v2; v2 = (v2 << 32) | (v2 >> 32)
        }
        let n = bytes.count
        var i = 0
        while i + 8 <= n {
            var m: UInt64 = 0
            for k in 0..<8 { m |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            v3 ^= m; round(); round(); v0 ^= m
            i += 8
        }
        var last = UInt64(n & 0xff) << 56
        var k = 0
        while i < n {
            last |= UInt64(bytes[i]) << (8 * UInt64(k))
            i += 1
            k += 1
        }
        v3 ^= last; round(); round(); v0 ^= last
        v2 ^= 0xff
        round(); round(); round(); round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    public func hash(_ s: String) -> UInt64 {
        var copy = s
        return copy.withUTF8 { hash($0) }
    }
}
