/// A dimension an answer can be broken down or filtered by (docs/dimensions.md).
public enum Dimension: Hashable, Sendable, CustomStringConvertible {
    case page, entryPage, exitPage, feature, eventType
    case context(ContextSlot)
    case prop(String)

    /// The dimensions most events of a visit share, one value table each. An event keeps them as two tuple ids,
    /// one per `Part`: where the visit came from, and what client sent it. Each part alone repeats across
    /// visits (most visits are direct; a user keeps a browser), so both tuple tables stay small, where one
    /// tuple of all fifteen would be nearly one per visit.
    public enum ContextSlot: Int, CaseIterable, Sendable {
        case referrer, utmSource, utmMedium, utmCampaign, utmTerm, utmContent
        case browser, browserVersion, os, osVersion, device, country
        case channel, platform, clientVersion

        /// The key in the stored line and the name in the API.
        public var key: String {
            switch self {
            case .referrer: "referrer"
            case .utmSource: "utm_source"
            case .utmMedium: "utm_medium"
            case .utmCampaign: "utm_campaign"
            case .utmTerm: "utm_term"
            case .utmContent: "utm_content"
            case .browser: "browser"
            case .browserVersion: "browser_version"
            case .os: "os"
            case .osVersion: "os_version"
            case .device: "device"
            case .country: "country"
            case .channel: "channel"
            case .platform: "platform"
            case .clientVersion: "client_version"
            }
        }

        static let byKey: [String: ContextSlot] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.key, $0) })

        /// The two tuples of an event's context.
        enum Part: Int, CaseIterable {
            /// Referrer and campaign.
            case source
            /// Browser, system, device, country, channel, platform, client version.
            case client

            /// The slots of this part, in slot order.
            var slots: [ContextSlot] { ContextSlot.allCases.filter { $0.part == self } }

            /// The raw values of this part's slots.
            var range: Range<Int> {
                self == .source ? 0..<ContextSlot.browser.rawValue : ContextSlot.browser.rawValue..<ContextSlot.allCases.count
            }
        }

        var part: Part { rawValue <= ContextSlot.utmContent.rawValue ? .source : .client }

        /// The slot's position in its part's tuple.
        var position: Int { part == .source ? rawValue : rawValue - ContextSlot.browser.rawValue }
    }

    /// The prefix of custom property dimensions.
    static let propPrefix = "prop:"

    /// The dimension an API name stands for; nil for an unknown one.
    public init?(name: some StringProtocol) {
        let name = String(name)
        switch name {
        case "page": self = .page
        case "entry_page": self = .entryPage
        case "exit_page": self = .exitPage
        case "feature": self = .feature
        case "event_type": self = .eventType
        default:
            if let slot = ContextSlot.byKey[name] {
                self = .context(slot)
            } else if name.hasPrefix(Self.propPrefix), name.count > Self.propPrefix.count {
                self = .prop(String(name.dropFirst(Self.propPrefix.count)))
            } else {
                return nil
            }
        }
    }

    public var description: String {
        switch self {
        case .page: "page"
        case .entryPage: "entry_page"
        case .exitPage: "exit_page"
        case .feature: "feature"
        case .eventType: "event_type"
        case .context(let slot): slot.key
        case .prop(let key): Self.propPrefix + key
        }
    }

    /// Every name `by=` and `filter=` accept, for error messages.
    static let names = ["page", "entry_page", "exit_page"] + ContextSlot.allCases.map(\.key) + ["feature", "event_type", "prop:KEY"]
}
