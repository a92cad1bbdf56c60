/// The dimensions one request gives all the events of its batch: what its User-Agent says (browser, system,
/// device) and the country of its client address. Only these derived values are kept; the User-Agent and the
/// address themselves never reach the log.
public struct RequestDimensions: Sendable {
    /// The request-level dimensions, in the order they are stored after the event's own.
    enum Field: Int, CaseIterable {
        case browser, browserVersion, os, osVersion, device, country

        var name: String {
            switch self {
            case .browser: "browser"
            case .browserVersion: "browser_version"
            case .os: "os"
            case .osVersion: "os_version"
            case .device: "device"
            case .country: "country"
            }
        }
    }

    /// Whether events get dimensions at all (`--dimensions off` stores them as sent).
    var derive: Bool
    /// Escaped values by `Field`, nil when unknown.
    var values: [[UInt8]?]

    /// No request dimensions, but the event's own (page, referrer, campaign) are derived.
    public static let none = RequestDimensions(derive: true, values: Array(repeating: nil, count: Field.allCases.count))
    /// Nothing derived.
    public static let off = RequestDimensions(derive: false, values: Array(repeating: nil, count: Field.allCases.count))

    public init(userAgent: UserAgent?, country: String?) {
        func escaped(_ s: String?) -> [UInt8]? {
            guard let s, !s.isEmpty else { return nil }
            var out: [UInt8] = []
            JSONString.appendEscaped(s.utf8, into: &out)
            return out
        }
        self.derive = true
        self.values = [
            escaped(userAgent?.browser), escaped(userAgent?.browserVersion), escaped(userAgent?.os),
            escaped(userAgent?.osVersion), escaped(userAgent?.device), escaped(country),
        ]
    }

    private init(derive: Bool, values: [[UInt8]?]) {
        self.derive = derive
        self.values = values
    }

    /// The same dimensions with `device` `bot` (`--keep-bots`).
    func markedAsBot() -> RequestDimensions {
        guard derive else { return self }
        var copy = self
        copy.values[Field.device.rawValue] = Array("bot".utf8)
        return copy
    }

    /// The bytes the values add to each line at most.
    var bytesPerEvent: Int { values.reduce(0) { $0 + ($1?.count ?? 0) } }
}
