import Testing
@testable import Telemetry

@Suite struct DashKeyAuthTests {
    @Test func acceptsOnlyAConfiguredKeyWhateverByteDiffers() {
        let key = "s3cret-dash-key-0123456789"
        let auth = DashKeyAuth(keys: ["other-key", key])
        #expect(auth.accepts(key))
        #expect(auth.accepts("other-key"))
        // Every one-byte change, at every position: the digest comparison sees a whole different hash.
        for i in key.utf8.indices {
            var bytes = Array(key.utf8)
            bytes[key.utf8.distance(from: key.utf8.startIndex, to: i)] ^= 1
            #expect(!auth.accepts(String(decoding: bytes, as: UTF8.self)))
        }
        #expect(!auth.accepts(""))
        #expect(!auth.accepts(String(key.dropLast())))
        #expect(!auth.accepts(key + "x"))
        #expect(!auth.accepts(String(repeating: "k", count: 100_000)))
        #expect(!DashKeyAuth(keys: []).isEnabled)
    }
}
