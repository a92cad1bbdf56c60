import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
@testable import Telemetry

/// Daily summaries, weekly mails and alerts: queued durably in the outbox, delivered to a local HTTP receiver
/// and a local SMTP sink (aiosmtpd), retried when refused.
@Suite struct ReportTests {
    /// A site with events on 2025-10-13 and 2025-10-20 and the daily rollup of 2025-10-20 written, on 2025-10-21.
    func seeded(_ dir: TempDirectory, _ configure: (inout TelemetryConfiguration) -> Void) async throws -> (Sites, ManualClock) {
        let clock = ManualClock("2025-10-21T04:00:00Z")
        var config = testConfiguration(dir)
        configure(&config)
        let storage = try Storage.open(config, logger: quietLogger, now: clock.now)
        let week = (0..<4).map { #"{"event_type":"page_view","user_id":"w\#($0)","url":"/old","ts":"2025-10-13T10:00:00Z"}"# }
        let day = (0..<6).map { #"{"event_type":"page_view","user_id":"u\#($0 % 5)","url":"/pricing","referrer":"https://news.ycombinator.com/","ts":"2025-10-20T10:00:00Z"}"# }
            + [#"{"event_type":"action","user_id":"u1","feature":"export","ts":"2025-10-20T11:00:00Z"}"#]
        _ = try await storage.ingestor.ingest(body(#"{"events":[\#((week + day).joined(separator: ","))]}"#))
        _ = await storage.currentIndex()
        let sites = Sites(storage: storage, logger: quietLogger)
        sites.all[0].rollups.runDue()
        return (sites, clock)
    }

    @Test func theDailySummaryGoesToEveryWebhookAndIsRetriedUntilTaken() async throws {
        let received = Locked<[String]>([])
        let refusals = Atomic<Int>(1)
        let router = Router()
        router.post("hook") { request, _ -> HTTPResponse.Status in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            if refusals.subtract(1, ordering: .relaxed).oldValue > 0 { return .internalServerError }
            received.withLock { $0.append(text) }
            return .ok
        }
        try await Application(router: router).test(.live) { receiver in
            let dir = TempDirectory()
            let url = "http://127.0.0.1:\(receiver.port!)/hook"
            let (sites, clock) = try await seeded(dir) { $0.webhooks = [url] }
            defer { sites.close() }
            let outbox = Outbox(dataDirectory: dir.path)
            let reporter = Reporter(sites: sites, outbox: outbox, logger: quietLogger)
            await reporter.check()
            #expect(outbox.pending().count == 1)
            await reporter.check()
            #expect(outbox.pending().count == 1, "a day is reported once")
            let delivery = DeliveryService(outbox: Outbox(dataDirectory: dir.path), smtp: nil, metrics: sites.metrics, logger: quietLogger,
                                           now: clock.now, retryBaseMs: 1000)
            await delivery.deliverDue()
            #expect(received.withLock { $0.isEmpty })
            #expect(outbox.pending().first?.message.attempts == 1)
            await delivery.deliverDue()  // not due yet
            #expect(received.withLock { $0.isEmpty })
            clock.advance(ms: 1000)
            await delivery.deliverDue()
            #expect(outbox.pending().isEmpty)
            let body = try #require(received.withLock { $0.first })
            let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
            #expect(json["kind"] as? String == "daily_summary")
            #expect(json["site"] as? String == "default")
            #expect((json["text"] as? String)?.hasPrefix("default · 2025-10-20: 5 users (+25% vs a week before), 7 events (+75%)") == true)
            #expect(json["content"] as? String == json["text"] as? String)
            let data = try #require(json["data"] as? [String: Any])
            #expect(data["users"] as? Int == 5 && data["events"] as? Int == 7)
            #expect((data["top_pages"] as? [[String: Any]])?.first?["value"] as? String == "/pricing")
            #expect((data["top_referrers"] as? [[String: Any]])?.first?["value"] as? String == "news.ycombinator.com")
            #expect((data["top_features"] as? [[String: Any]])?.first?["value"] as? String == "export")
            let metrics = String(decoding: sites.metrics.render(), as: UTF8.self)
            #expect(metrics.contains(#"telemetry_deliveries_total{channel="webhook",result="failed"} 1"#))
            #expect(metrics.contains(#"telemetry_deliveries_total{channel="webhook",result="delivered"} 1"#))
        }
    }

    @Test func theOutboxSurvivesARestartAndGivesUpAfterADay() async throws {
        let dir = TempDirectory()
        let clock = ManualClock()
        let message = Outbox.Message(channel: .webhook, kind: "alert_started", site: "default", url: "http://127.0.0.1:9/unreachable",
                                     body: "{}", created: clock.now(), next: clock.now())
        try Outbox(dataDirectory: dir.path).enqueue(message)
        let reopened = Outbox(dataDirectory: dir.path)
        #expect(reopened.pending().map(\.message) == [message])
        let delivery = DeliveryService(outbox: reopened, smtp: nil, metrics: TelemetryMetrics(), logger: quietLogger, now: clock.now, retryBaseMs: 1)
        await delivery.deliverDue()
        #expect(reopened.pending().first?.message.attempts == 1)
        clock.advance(ms: Milliseconds.day)
        await delivery.deliverDue()
        #expect(reopened.pending().isEmpty)
    }

    @Test func alertsGoToTheWebhooksWhenTheyStartAndClear() async throws {
        let dir = TempDirectory()
        let (sites, clock) = try await seeded(dir) { $0.webhooks = ["https://hooks.example.com/services/T0/B0/secret"] }
        defer { sites.close() }
        let outbox = Outbox(dataDirectory: dir.path)
        let reporter = Reporter(sites: sites, outbox: outbox, logger: quietLogger)
        let monitor = AlertMonitor(now: clock.now, logger: quietLogger)
        monitor.onChange { started, alert in reporter.alert(started: started, alert) }
        monitor.set(kind: "traffic_drop", firing: true, value: 10, threshold: 50, since: clock.now(), message: "events fell")
        monitor.set(kind: "traffic_drop", firing: true, value: 11, threshold: 50, since: clock.now(), message: "events fell")
        monitor.set(kind: "traffic_drop", firing: false, value: 60, threshold: 50, since: clock.now(), message: "events fell")
        let kinds = outbox.pending().map(\.message.kind)
        #expect(kinds == ["alert_started", "alert_cleared"])
        let started = try JSONSerialization.jsonObject(with: Data(outbox.pending()[0].message.body.utf8)) as! [String: Any]
        #expect((started["data"] as? [String: Any])?["alert"] as? String == "traffic_drop")
        #expect((started["text"] as? String)?.contains("events fell") == true)
    }

    @Test(.enabled(if: pythonCanImport("aiosmtpd") || onCI, "needs Python's aiosmtpd: run scripts/setup"))
    func theDailyAndMondaysWeeklySummaryAreMailedAsTextAndHTML() async throws {
        let dir = TempDirectory()
        let port = Daemon.freePort()
        let mails = dir.path + "/mails.ndjson"
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sink.arguments = [python, packageRoot + "/scripts/lib/smtp_sink.py", "\(port)", mails]
        let ready = Pipe()
        sink.standardOutput = ready
        try sink.run()
        // SIGKILL: a test process may ignore SIGTERM (the service lifecycle traps it), and the sink inherits that.
        defer { kill(sink.processIdentifier, SIGKILL); sink.waitUntilExit() }
        _ = ready.fileHandleForReading.availableData  // "ready"
        // 2025-10-21 is a Tuesday: the rollup of Monday 2025-10-20 runs on it; move to a Monday for the weekly one.
        let (sites, clock) = try await seeded(dir) {
            $0.smtpURL = "smtp://127.0.0.1:\(port)"
            $0.reportEmails = ["team@example.com", "ceo@example.com"]
            $0.reportFrom = "reports@example.com"
        }
        defer { sites.close() }
        let outbox = Outbox(dataDirectory: dir.path)
        let reporter = Reporter(sites: sites, outbox: outbox, logger: quietLogger)
        await reporter.check()
        clock.set("2025-10-27T04:00:00Z")
        sites.all[0].rollups.runDue()
        await reporter.check()
        #expect(outbox.pending().map(\.message.kind) == ["daily_summary", "daily_summary", "weekly_summary"])
        let delivery = DeliveryService(outbox: outbox, smtp: SMTPClient(url: "smtp://127.0.0.1:\(port)", from: "reports@example.com"),
                                       metrics: sites.metrics, logger: quietLogger, now: clock.now)
        await delivery.deliverDue()
        #expect(outbox.pending().isEmpty)
        let received = try String(contentsOfFile: mails, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(received.count == 3)
        #expect(received.first?["from"] as? String == "reports@example.com")
        #expect(received.first?["to"] as? [String] == ["team@example.com", "ceo@example.com"])
        let first = received.first?["data"] as? String ?? ""
        #expect(first.contains("Subject: telemetryd daily: default · 2025-10-20: 5 users"))
        #expect(first.contains("Content-Type: text/html") && first.contains("<td>/pricing</td>"))
        #expect(first.contains("Top pages: /pricing (5)"))
        #expect((received.last?["data"] as? String)?.contains("Subject: telemetryd weekly: default · week to 2025-10-26") == true)
    }
}

/// Reports and share tokens through the real binary: a daemon started with `--webhook` posts the summary of the
/// rollup it makes at start-up; `telemetryd share create|list|revoke` work beside the running daemon.
@Suite struct RealBinaryReportTests {
    @Test func theDaemonPostsItsDailySummaryToTheWebhook() async throws {
        let received = Locked<[String]>([])
        let router = Router()
        router.post("hook") { request, _ -> HTTPResponse.Status in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            received.withLock { $0.append(text) }
            return .ok
        }
        try await Application(router: router).test(.live) { receiver in
            let dir = TempDirectory()
            // The binary runs on the real clock: between midnight and the 03:15 rollup the newest rollup is two
            // days old, which a first start leaves unreported as backlog. A report state from long ago makes the
            // start-up rollup the one to report at any hour.
            try FileManager.default.createDirectory(atPath: dir.path + "/data/outbox", withIntermediateDirectories: true)
            try "2000-01-01".write(toFile: dir.path + "/data/outbox/reported-default", atomically: true, encoding: .utf8)
            let daemon = try Daemon(dataDirectory: dir.path + "/data", arguments: ["--webhook", "http://127.0.0.1:\(receiver.port!)/hook", "--dash-key", "k"])
            defer { _ = daemon.terminate() }
            // The reporter looks every 30 s; the rollup of yesterday is written at start.
            var body: String?
            for _ in 0..<450 where body == nil {
                try await Task.sleep(for: .milliseconds(100))
                body = received.withLock { $0.first }
            }
            let json = try JSONSerialization.jsonObject(with: Data(try #require(body).utf8)) as! [String: Any]
            #expect(json["kind"] as? String == "daily_summary")
            #expect(json["site"] as? String == "default")
            #expect((json["text"] as? String)?.hasPrefix("default · ") == true)
        }
    }

    @Test func shareTokensAreMadeListedAndRevokedBesideARunningDaemon() throws {
        let dir = TempDirectory()
        let data = dir.path + "/data"
        let daemon = try Daemon(dataDirectory: data, arguments: ["--dash-key", "k"])
        defer { _ = daemon.terminate() }
        let created = try runTelemetryd(["share", "create", "default", "--data-dir", data])
        #expect(created.status == 0 && created.out.hasPrefix("tdshare_"))
        let token = created.out
        #expect(daemon.http.get("/api/analytics/usage?days=1", headers: ["X-Share-Token": token])?.status == 200)
        #expect(daemon.http.get("/api/analytics/users/u1/events", headers: ["X-Share-Token": token])?.status == 403)
        let listed = try runTelemetryd(["share", "list", "--data-dir", data])
        #expect(listed.out.contains("\tdefault\t") && !listed.out.contains(token))
        #expect(try runTelemetryd(["share", "create", "nosuchsite", "--data-dir", data]).status != 0)
        #expect(try runTelemetryd(["share", "revoke", token, "--data-dir", data]).status == 0)
        #expect(daemon.http.get("/api/analytics/usage?days=1", headers: ["X-Share-Token": token])?.status == 401)
        let log = (try? String(contentsOfFile: daemon.logPath, encoding: .utf8)) ?? ""
        #expect(!log.contains(token))
    }
}
