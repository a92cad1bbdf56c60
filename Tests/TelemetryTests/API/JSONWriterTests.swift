import Testing
@testable import Telemetry

@Suite struct JSONWriterTests {
    /// dau and wau are rounded as the oracle's Python `round(x, 1)`: from the exact binary value, half to even.
    @Test(arguments: [(0.15, "0.1"), (42.25, "42.2"), (1.05, "1.1"), (156.35, "156.3"), (0.0, "0.0"), (487.0, "487.0")])
    func roundsLikeTheOracle(value: Double, text: String) {
        var w = JSONWriter()
        w.number(value, places: 1)
        #expect(w.text == text)
    }

    @Test func keysKeepTheirOrderAndStringsAreEscaped() {
        let text = JSONWriter.build { w in
            w.field("b", 1)
            w.field("a", "x\"y\n")
            w.key("o")
            w.object { w in w.field("z", true) }
        }
        #expect(text == #"{"b":1,"a":"x\"y\n","o":{"z":true}}"#)
    }
}
