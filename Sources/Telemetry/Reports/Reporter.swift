import Foundation
import Logging
import ServiceLifecycle

/// Puts the reports in the outbox (docs/reports.md): after each site's daily rollup, a summary of the rolled-up
/// day (users, events, top pages, referrers and features, change against the same weekday a week before) to the
/// webhooks and the report emails; on Mondays a weekly summary by mail; and every alert when it starts and when
/// it clears, to the webhooks. What was sent for each site is remembered in the outbox folder, so a restart
/// does not repeat a day; after a downtime only the newest rolled-up day is summarised.
final class Reporter: Service, Sendable {
    let sites: Sites
    let outbox: Outbox
    let logger: Logger
    let interval: Duration

    init(sites: Sites, outbox: Outbox, logger: Logger, interval: Duration = .seconds(30)) {
        self.sites = sites
        self.outbox = outbox
        self.logger = logger
        self.interval = interval
    }

    var configuration: TelemetryConfiguration { sites.configuration }
    var isEnabled: Bool { !configuration.webhooks.isEmpty || !configuration.reportEmails.isEmpty || sites.all.contains { !$0.definition.webhooks.isEmpty } }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await check()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// Queues the summaries of rollups not yet reported.
    func check() async {
        for site in sites.all {
            guard let end = site.rollupStore.read().last?.end else { continue }
            let stateFile = outbox.directory + "/reported-\(site.id)"
            let reported = (try? String(contentsOfFile: stateFile, encoding: .utf8)).flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            let today = CivilDate(epochMilliseconds: sites.now())
            if let reported, reported >= end { continue }
            // A first start reports only yesterday's rollup, not a backlog.
            if reported == nil && end < today.adding(days: -1) {
                try? FileSystem.makeDirectory(outbox.directory)
                try? FileSystem.writeAtomically(stateFile, Array(end.description.utf8))
                continue
            }
            await daily(site, end)
            if today.weekdayFromMonday == 0 && end == today.adding(days: -1) { await weekly(site, end) }
            try? FileSystem.makeDirectory(outbox.directory)
            try? FileSystem.writeAtomically(stateFile, Array(end.description.utf8))
        }
    }

    struct Figures: Sendable {
        var current: BreakdownCounts
        var previous: BreakdownCounts
        var pages: [Breakdown.Row]
        var referrers: [Breakdown.Row]
        var features: [Breakdown.Row]
    }

    func figures(_ site: Site, _ start: Int, _ end: Int, days: Int) async -> Figures {
        await site.reader.scan(EventFilter()) { t in
            let current = t.breakdown(.eventType, start, end, top: 1, previous: nil).total
            let previous = t.breakdown(.eventType, start - days, end - days, top: 1, previous: nil).total
            func top(_ d: Dimension) -> [Breakdown.Row] {
                t.breakdown(d, start, end, top: 5, previous: nil).rows.filter { $0.value != nil && $0.value != Breakdown.other }
            }
            return Figures(current: current, previous: previous, pages: top(.page), referrers: top(.context(.referrer)), features: top(.feature))
        }
    }

    static func change(_ now: Int, _ before: Int) -> Double? { before == 0 ? nil : Double(now - before) / Double(before) }

    static func percent(_ change: Double?) -> String {
        guard let change else { return "new" }
        return (change >= 0 ? "+" : "−") + String(format: "%.0f%%", abs(change) * 100)
    }

    func daily(_ site: Site, _ end: CivilDate) async {
        let f = await figures(site, end.dayNumber, end.dayNumber, days: 7)
        let title = "\(site.id) · \(end): \(f.current.users) users (\(Self.percent(Self.change(f.current.users, f.previous.users))) vs a week before), \(f.current.events) events (\(Self.percent(Self.change(f.current.events, f.previous.events))))"
        await send(site, kind: "daily_summary", title: title, subject: "telemetryd daily: " + title, figures: f, period: (end, end))
    }

    func weekly(_ site: Site, _ end: CivilDate) async {
        let f = await figures(site, end.dayNumber - 6, end.dayNumber, days: 7)
        let title = "\(site.id) · week to \(end): \(f.current.users) users (\(Self.percent(Self.change(f.current.users, f.previous.users))) vs the week before), \(f.current.events) events (\(Self.percent(Self.change(f.current.events, f.previous.events))))"
        await send(site, kind: "weekly_summary", title: title, subject: "telemetryd weekly: " + title, figures: f, period: (end.adding(days: -6), end), webhooks: false)
    }

    private func send(_ site: Site, kind: String, title: String, subject: String, figures f: Figures, period: (CivilDate, CivilDate), webhooks: Bool = true) async {
        func list(_ rows: [Breakdown.Row]) -> String {
            rows.isEmpty ? "none" : rows.map { "\($0.value ?? "") (\($0.counts.users))" }.joined(separator: ", ")
        }
        let sections = [("Top pages", f.pages), ("Referrers", f.referrers), ("Features", f.features)]
        let text = ([title] + sections.map { "\($0.0): \(list($0.1))" }).joined(separator: "\n")
        let data = JSONWriter.build { w in
            w.field("site", site.id)
            w.field("start", period.0.description)
            w.field("end", period.1.description)
            w.field("users", f.current.users)
            w.field("events", f.current.events)
            w.field("visits", f.current.visits)
            w.key("previous")
            w.object { w in
                w.field("users", f.previous.users)
                w.field("events", f.previous.events)
                w.field("visits", f.previous.visits)
            }
            w.key("users_change"); Self.change(f.current.users, f.previous.users).map { w.number($0, places: 4) } ?? w.raw("null")
            w.key("events_change"); Self.change(f.current.events, f.previous.events).map { w.number($0, places: 4) } ?? w.raw("null")
            for (key, rows) in [("top_pages", f.pages), ("top_referrers", f.referrers), ("top_features", f.features)] {
                w.key(key)
                w.array { w in
                    for r in rows {
                        w.object { w in
                            w.field("value", r.value ?? "")
                            w.field("users", r.counts.users)
                            w.field("events", r.counts.events)
                        }
                    }
                }
            }
        }
        if webhooks { enqueueWebhooks(site: site, kind: kind, text: text, data: data) }
        if !configuration.reportEmails.isEmpty {
            let html = "<html><body><h2>" + Self.escape(title) + "</h2>" + sections.map { name, rows in
                "<h3>\(name)</h3><table>" + rows.map { "<tr><td>\(Self.escape($0.value ?? ""))</td><td align=\"right\">\($0.counts.users) users</td><td align=\"right\">\($0.counts.events) events</td></tr>" }.joined() + "</table>"
            }.joined() + "</body></html>"
            enqueue(Outbox.Message(channel: .email, kind: kind, site: site.id, to: configuration.reportEmails, body: text, subject: subject,
                                   html: html, created: sites.now(), next: sites.now()))
        }
    }

    /// One alert starting or clearing, to every webhook of the daemon (and of its site).
    func alert(started: Bool, _ alert: AlertMonitor.Alert) {
        let kind = started ? "alert_started" : "alert_cleared"
        let site = alert.site ?? (sites.all.count == 1 ? sites.all[0].id : "*")
        let text = (started ? "⚠️ telemetryd alert: " : "✅ telemetryd alert cleared: ") + alert.message + (alert.site.map { " (site \($0))" } ?? "")
        let data = JSONWriter.build { w in
            w.field("alert", alert.kind)
            w.field("message", alert.message)
            w.field("since", Timestamp.secondsString(alert.since))
            w.key("value"); w.number(alert.value, places: 4)
            w.key("threshold"); w.number(alert.threshold, places: 4)
        }
        let target = sites.site(site)
        enqueueWebhooks(site: target, siteID: site, kind: kind, text: text, data: data)
    }

    private func enqueueWebhooks(site: Site?, siteID: String? = nil, kind: String, text: String, data: String) {
        let id = siteID ?? site?.id ?? "*"
        // `text` for Slack and Mattermost, `content` for Discord; the figures in `data`. (No Slack `attachments`:
        // Discord reads that key as file uploads and refuses the message.)
        let body = JSONWriter.build { w in
            w.field("text", text)
            w.field("content", text)
            w.field("site", id)
            w.field("kind", kind)
            w.key("data"); w.raw(data)
        }
        for url in configuration.webhooks + (site?.definition.webhooks ?? []) {
            enqueue(Outbox.Message(channel: .webhook, kind: kind, site: id, url: url, body: body, created: sites.now(), next: sites.now()))
        }
    }

    private func enqueue(_ message: Outbox.Message) {
        do {
            try outbox.enqueue(message)
        } catch {
            logger.error("cannot queue a report", metadata: ["kind": "\(message.kind)", "error": "\(error)"])
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
