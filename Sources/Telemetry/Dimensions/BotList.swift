import CTelemetryShims

/// Which User-Agents are crawlers, link previewers, monitors or driven browsers (docs/bots.md).
///
/// Maintained list. Sources: the crawler patterns of monperrus/crawler-user-agents (MIT), Matomo's
/// device-detector bots.yml (LGPL; names only) and the User-Agents the vendors document for their crawlers
/// and AI fetchers, reviewed 2026-11-26. Each entry is a lower-case substring of the User-Agent (or, with a
/// leading `^`, its prefix). Every entry has a real example in `Tests/TelemetryTests/Dimensions/bots.tsv`,
/// checked by a test per row.
///
/// Plain HTTP clients (curl, python-requests, Python-urllib, Go-http-client, node-fetch, axios, okhttp, Java)
/// are not bots: servers use them to report events (a backend's signups).
public enum BotList {
    public static let patterns: [String] = [
        // Search engines and their other fetchers.
        "googlebot", "adsbot-google", "mediapartners-google", "google-inspectiontool", "storebot-google", "apis-google",
        "googleother", "feedfetcher-google", "google-read-aloud", "bingbot", "bingpreview", "msnbot", "adidxbot",
        "yahoo! slurp", "duckduckbot", "duckassistbot", "baiduspider", "yandex.com/bots", "yandexbot", "sogou", "exabot",
        "applebot", "seznambot", "coccocbot", "qwantbot", "qwantify", "mojeekbot", "yeti/", "daumoa", "petalbot",
        "naverbot",
        // AI crawlers and fetchers.
        "gptbot", "chatgpt-user", "oai-searchbot", "claudebot", "claude-web", "claude-user", "anthropic-ai",
        "perplexitybot", "perplexity-user", "ccbot", "bytespider", "amazonbot", "meta-externalagent", "meta-externalfetcher",
        "cohere-ai", "diffbot", "youbot", "timpibot", "ai2bot", "imagesiftbot", "omgili",
        // SEO, archives and research crawlers.
        "ahrefsbot", "ahrefssiteaudit", "semrushbot", "siteauditbot", "mj12bot", "dotbot", "rogerbot", "blexbot",
        "serpstatbot", "dataforseobot", "barkrowler", "seekportbot", "screaming frog", "sitebulb", "linkdexbot",
        "ia_archiver", "archive.org_bot", "heritrix", "nutch", "censysinspect", "expanse", "internetmeasurement",
        "zoominfobot", "netcraftsurvey", "zgrab", "masscan", "nmap scripting engine", "nuclei", "scrapy",
        // Link previews.
        "facebookexternalhit", "facebookcatalog", "facebot", "twitterbot", "linkedinbot", "slackbot",
        "slack-imgproxy", "discordbot", "telegrambot", "^whatsapp/", "pinterestbot", "pinterest/0.", "redditbot",
        "embedly", "skypeuripreview", "iframely", "vkshare", "mastodon/", "bluesky cardyb",
        // Uptime and performance monitors.
        "uptimerobot", "pingdom", "statuscake", "site24x7", "newrelicpinger", "datadogsynthetics", "checkly",
        "betteruptime", "uptime-kuma", "gtmetrix", "chrome-lighthouse", "google page speed", "speedcurve",
        "webpagetest", "ptst/",
        // Headless and driven browsers.
        "headlesschrome", "phantomjs", "slimerjs", "htmlunit", "puppeteer", "playwright", "cypress/",
        "selenium", "webdriver",
        // Generic signs: a contact URL in the User-Agent, and the words crawlers use for themselves.
        "+http", "crawler", "spider", "bot/", "bot;", "bot)", "robot", "crawl",
    ]

    /// Lower-case prefixes of the HTTP clients servers report events with; never bots.
    public static let httpClients: [String] = [
        "curl/", "wget/", "python-requests/", "python-urllib/", "python-httpx/", "python/", "aiohttp/", "go-http-client/",
        "node-fetch", "node/", "undici", "axios/", "okhttp/", "java/", "apache-httpclient/", "ruby", "faraday",
        "guzzlehttp/", "dart:io", "dart/", "reqwest/", "hyper/", "swift", "cfnetwork/", "alamofire/", "postmanruntime/",
        "insomnia/", "httpie/", "libcurl", "php", "deno/", "bun/",
    ]

    /// The entry `userAgent` matches, or nil when it is not a bot. Compared as ASCII-lower-cased bytes with
    /// `memmem`: this runs for every request, and Foundation's `String.contains` cost ingest a third of its CPU.
    public static func match(_ userAgent: String) -> String? {
        var lower = Array(userAgent.utf8)
        for i in lower.indices where lower[i] >= 0x41 && lower[i] <= 0x5A { lower[i] |= 0x20 }
        return lower.withUnsafeBytes { ua -> String? in
            func contains(_ needle: [UInt8]) -> Bool {
                needle.withUnsafeBytes { n in telemetry_contains(ua.baseAddress, ua.count, n.baseAddress, n.count) != 0 }
            }
            func hasPrefix(_ needle: [UInt8]) -> Bool { ua.count >= needle.count && ua.prefix(needle.count).elementsEqual(needle) }
            if compiledClients.contains(where: hasPrefix), !compiledClientExceptions.contains(where: contains) { return nil }
            for (k, pattern) in compiledPatterns.enumerated() where pattern.prefix ? hasPrefix(pattern.bytes) : contains(pattern.bytes) {
                return patterns[k]
            }
            return nil
        }
    }

    private static let compiledPatterns: [(bytes: [UInt8], prefix: Bool)] = patterns.map { p in
        p.hasPrefix("^") ? (Array(p.utf8.dropFirst()), true) : (Array(p.utf8), false)
    }
    private static let compiledClients: [[UInt8]] = httpClients.map { Array($0.utf8) }
    /// Words that make a plain HTTP client's User-Agent a bot after all.
    private static let compiledClientExceptions: [[UInt8]] = ["bot", "crawl", "spider"].map { Array($0.utf8) }
}
