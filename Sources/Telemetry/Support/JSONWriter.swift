import Foundation

/// Writes JSON with keys in the order given, as the contract's answers need (`feature_usage` is ordered).
struct JSONWriter {
    private(set) var text = ""
    private var needsComma: [Bool] = [false]

    init() { text.reserveCapacity(256) }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    mutating func key(_ k: String) {
        separate()
        text += JSONString.quoted(k)
        text += ":"
        needsComma[needsComma.count - 1] = false
    }

    mutating func open(_ c: String) {
        separate()
        text += c
        needsComma.append(false)
    }

    mutating func close(_ c: String) {
        needsComma.removeLast()
        text += c
    }

    mutating func object(_ body: (inout JSONWriter) -> Void) { open("{"); body(&self); close("}") }
    mutating func array(_ body: (inout JSONWriter) -> Void) { open("["); body(&self); close("]") }

    mutating func raw(_ v: String) { separate(); text += v }
    mutating func string(_ v: String) { raw(JSONString.quoted(v)) }
    mutating func int(_ v: Int) { raw(String(v)) }
    mutating func bool(_ v: Bool) { raw(v ? "true" : "false") }

    /// A number rounded to `places` decimals from its exact binary value, half to even (glibc's printf,
    /// like Python's `round` in the oracle), always with a fraction (`42.0`).
    mutating func number(_ v: Double, places: Int) {
        raw(String(format: "%.\(places)f", v))
    }

    mutating func field(_ k: String, _ v: String) { key(k); string(v) }
    mutating func field(_ k: String, _ v: Int) { key(k); int(v) }
    mutating func field(_ k: String, _ v: Bool) { key(k); bool(v) }

    static func build(_ body: (inout JSONWriter) -> Void) -> String {
        var w = JSONWriter()
        w.object(body)
        return w.text
    }
}
