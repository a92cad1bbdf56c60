/// What the dimensions keep of a request's User-Agent (the string itself is never stored).
///
/// Classification reads tokens, in order, from small rule tables: the first browser rule whose tokens all
/// occur names the browser, the first platform rule names the operating system, and the device class follows
/// from the platform and from the markers browsers add on phones and tablets. Versions are majors only.
/// Whatever names no browser and no platform (HTTP libraries such as curl or okhttp, most crawlers, an empty
/// header) classifies as nothing at all.
public struct UserAgent: Sendable, Equatable {
    /// The vendor's name: "Chrome", "Edge", "Safari", "Samsung Internet", or the app for in-app browsers ("Instagram").
    public var browser: String?
    /// The browser's major version, such as "131".
    public var browserVersion: String?
    /// "Windows", "macOS", "iOS", "iPadOS", "Android", "Linux", "ChromeOS", or another named platform ("KaiOS").
    public var os: String?
    /// The platform's major version ("17", "14", "10"); Windows gives its marketing version ("10", "8", "7", "XP").
    public var osVersion: String?
    /// "desktop", "mobile" or "tablet".
    public var device: String?
}

extension UserAgent {
    /// Classifies a User-Agent header; an empty or unrecognised one leaves every field nil.
    public init(_ text: some StringProtocol) {
        if let parsed = text.utf8.withContiguousStorageIfAvailable({ UserAgent(scanning: UserAgentText(bytes: $0)) }) {
            self = parsed
        } else {
            self = Array(text.utf8).withUnsafeBufferPointer { UserAgent(scanning: UserAgentText(bytes: $0)) }
        }
    }

    private init(scanning text: UserAgentText) {
        self.init()
        if let rule = BrowserRule.all.first(where: { text.containsAll($0.tokens) }) {
            browser = rule.name
            browserVersion = rule.versionAfter.lazy.compactMap { text.major(after: $0) }.first
        }
        if let rule = PlatformRule.all.first(where: { text.containsAll($0.tokens) }) {
            os = rule.os
            osVersion = rule.version.read(in: text)
        }
        device = DeviceRule.classify(os: os, browser: browser, in: text)
    }
}

/// One way of naming the browser. In-app browsers and browsers built on Chromium or WebKit also carry Chrome's
/// or Safari's tokens, so they come first; Safari, whose tokens every WebKit browser repeats, comes last.
private struct BrowserRule: Sendable {
    /// Tokens that must all occur.
    let tokens: [StaticString]
    let name: String
    /// Tokens after which the major version may follow; the first one followed by digits gives it.
    let versionAfter: [StaticString]

    init(_ token: StaticString, _ name: String, version: [StaticString]? = nil) {
        self.init([token], name, version: version ?? [token])
    }

    init(_ tokens: [StaticString], _ name: String, version: [StaticString]) {
        self.tokens = tokens
        self.name = name
        self.versionAfter = version
    }

    static let all: [BrowserRule] = [
        // In-app browsers, named as the app.
        BrowserRule("Instagram ", "Instagram"),
        BrowserRule("FBAV/", "Facebook"),
        BrowserRule("WhatsApp/", "WhatsApp"),
        BrowserRule("musical_ly", "TikTok", version: ["app_version/", "musical_ly_"]),
        BrowserRule("[LinkedInApp]", "LinkedIn", version: ["[LinkedInApp]/"]),
        BrowserRule("Snapchat", "Snapchat", version: ["Snapchat/"]),
        BrowserRule(" Line/", "Line"),
        BrowserRule("TwitterAndroid", "Twitter", version: []),
        BrowserRule("Twitter for iP", "Twitter", version: []),
        BrowserRule("[Pinterest/", "Pinterest", version: []),
        BrowserRule("MicroMessenger/", "WeChat"),
        BrowserRule("KAKAOTALK/", "KakaoTalk"),
        BrowserRule("GSA/", "Google App"),
        // Browsers that name themselves beside Chrome's or Safari's tokens.
        BrowserRule("Edg/", "Edge"),
        BrowserRule("EdgA/", "Edge"),
        BrowserRule("EdgiOS/", "Edge"),
        BrowserRule("Edge/", "Edge"),
        BrowserRule("Opera Mini/", "Opera"),
        BrowserRule("OPR/", "Opera"),
        BrowserRule("OPX/", "Opera"),
        BrowserRule("OPT/", "Opera"),
        BrowserRule("OPiOS/", "Opera"),
        BrowserRule("Opera", "Opera", version: ["Version/", "Opera/", "Opera "]),
        BrowserRule("SamsungBrowser/", "Samsung Internet"),
        BrowserRule("YaBrowser/", "Yandex Browser"),
        BrowserRule("UCBrowser/", "UC Browser"),
        BrowserRule("UCMobile/", "UC Browser"),
        BrowserRule("Vivaldi/", "Vivaldi"),
        BrowserRule("MiuiBrowser/", "MIUI Browser"),
        BrowserRule("HuaweiBrowser/", "Huawei Browser"),
        BrowserRule("DuckDuckGo/", "DuckDuckGo"),
        BrowserRule("Silk/", "Amazon Silk"),
        BrowserRule("HeadlessChrome", "Headless Chrome", version: ["HeadlessChrome/"]),
        BrowserRule("Chromium/", "Chromium"),
        BrowserRule("; wv)", "Android WebView", version: ["Chrome/"]),
        // The engines' own browsers.
        BrowserRule("CriOS/", "Chrome"),
        BrowserRule("Chrome/", "Chrome"),
        BrowserRule("FxiOS/", "Firefox"),
        BrowserRule("Firefox/", "Firefox"),
        BrowserRule("IEMobile/", "IE Mobile"),
        BrowserRule("MSIE ", "Internet Explorer"),
        BrowserRule("Trident/", "Internet Explorer", version: ["rv:"]),
        BrowserRule(["Android", "Version/", "Safari/"], "Android Browser", version: ["Version/"]),
        BrowserRule(["Version/", "Safari/"], "Safari", version: ["Version/"]),
    ]
}

/// One way of naming the operating system. Phones come before desktops because their UAs borrow desktop
/// tokens ("like Mac OS X", "Linux; Android"), and Windows Phone before both because it borrows "Android" and
/// "iPhone".
private struct PlatformRule: Sendable {
    /// How the platform's version is read.
    enum Version: Sendable {
        case none
        case fixed(String)
        case major(after: StaticString)

        func read(in text: UserAgentText) -> String? {
            switch self {
            case .none: nil
            case .fixed(let version): version
            case .major(let token): text.major(after: token)
            }
        }
    }

    /// Tokens that must all occur.
    let tokens: [StaticString]
    let os: String
    let version: Version

    init(_ tokens: StaticString..., os: String, version: Version) {
        self.tokens = tokens
        self.os = os
        self.version = version
    }

    static let all: [PlatformRule] = [
        PlatformRule("Windows Phone", os: "Windows Phone", version: .major(after: "Windows Phone ")),
        // Windows 11 still sends NT 10.0; 8.1 is NT 6.3.
        PlatformRule("Windows NT 10.0", os: "Windows", version: .fixed("10")),
        PlatformRule("Windows NT 6.3", os: "Windows", version: .fixed("8")),
        PlatformRule("Windows NT 6.2", os: "Windows", version: .fixed("8")),
        PlatformRule("Windows NT 6.1", os: "Windows", version: .fixed("7")),
        PlatformRule("Windows NT 6.0", os: "Windows", version: .fixed("Vista")),
        PlatformRule("Windows NT 5.2", os: "Windows", version: .fixed("XP")),
        PlatformRule("Windows NT 5.1", os: "Windows", version: .fixed("XP")),
        PlatformRule("Windows", os: "Windows", version: .none),
        PlatformRule("KAIOS/", os: "KaiOS", version: .major(after: "KAIOS/")),
        PlatformRule("OpenHarmony", os: "HarmonyOS", version: .major(after: "OpenHarmony ")),
        PlatformRule("HarmonyOS", os: "HarmonyOS", version: .major(after: "HarmonyOS ")),
        PlatformRule("iPad", os: "iPadOS", version: .major(after: " OS ")),
        // iPods say "iPhone OS" too.
        PlatformRule("iPhone", os: "iOS", version: .major(after: " OS ")),
        // Chrome and Edge exist on Apple devices only for iOS and iPadOS; in desktop mode they send a Mac's
        // frozen platform, so no version.
        PlatformRule("Macintosh", "CriOS/", os: "iPadOS", version: .none),
        PlatformRule("Macintosh", "EdgiOS/", os: "iPadOS", version: .none),
        PlatformRule("CrOS", os: "ChromeOS", version: .none),
        PlatformRule("Tizen", os: "Tizen", version: .major(after: "Tizen ")),
        PlatformRule("Android", os: "Android", version: .major(after: "Android ")),
        // Safari in iPadOS's desktop mode sends this too and cannot be told apart.
        PlatformRule("Macintosh", os: "macOS", version: .major(after: "Mac OS X ")),
        PlatformRule("FreeBSD", os: "FreeBSD", version: .none),
        PlatformRule("OpenBSD", os: "OpenBSD", version: .none),
        PlatformRule("Linux", os: "Linux", version: .none),
    ]
}

/// The device class, from the platform and the markers browsers add on tablets and phones.
private enum DeviceRule {
    /// Amazon's Fire tablets ("Kindle", Silk, which may also say "Mobile") and Firefox's "(Tablet;" platform;
    /// Windows' "Tablet PC 2.0" does not count.
    static let tablet: [StaticString] = ["Kindle", "Silk/", "Tablet;"]
    /// "Mobi" covers "Mobile", "IEMobile" (Windows Phone) and "Opera Mobi"; iPods say "iPhone OS".
    static let mobile: [StaticString] = ["Mobi", "iPhone", "Opera Mini"]

    static func classify(os: String?, browser: String?, in text: UserAgentText) -> String? {
        if os == "iPadOS" || tablet.contains(where: text.contains) { return "tablet" }
        if mobile.contains(where: text.contains) { return "mobile" }
        switch os {
        case nil: return nil
        // Android browsers say "Mobile" on phones only; an app's own HTTP client (Dalvik) says neither.
        case "Android": return browser == nil ? nil : "tablet"
        default: return "desktop"
        }
    }
}

/// The bytes of a User-Agent, with the searches the rules make in them.
private struct UserAgentText {
    let bytes: UnsafeBufferPointer<UInt8>

    func contains(_ token: StaticString) -> Bool {
        end(of: token) != nil
    }

    func containsAll(_ tokens: [StaticString]) -> Bool {
        tokens.allSatisfy(contains)
    }

    /// The digits right after the first `token`: "131" after "Chrome/" in "Chrome/131.0.6778.85"; nil when
    /// the token is absent or no digit follows it.
    func major(after token: StaticString) -> String? {
        guard let start = end(of: token) else { return nil }
        var end = start
        while end < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) { end += 1 }
        return end == start ? nil : String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The index just past the first occurrence of `token`, or nil.
    private func end(of token: StaticString) -> Int? {
        token.withUTF8Buffer { needle -> Int? in
            guard let first = needle.first, needle.count <= bytes.count else { return nil }
            for start in 0...(bytes.count - needle.count) where bytes[start] == first {
                var matched = 1
                while matched < needle.count, bytes[start + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return start + matched }
            }
            return nil
        }
    }
}
