import Testing
@testable import Telemetry

@Test func timestampRoundTrip() {
    let ms = Timestamp.parse("2025-10-21T10:00:00+02:00")
    #expect(ms != nil)
    #expect(Timestamp.string(ms!) == "2025-10-21T08:00:00.000Z")
}
