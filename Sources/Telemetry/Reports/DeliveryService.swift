import AsyncHTTPClient
import CoreMetrics
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Delivers the outbox (docs/reports.md): webhooks with a POST through async-http-client, mail through the
/// SMTP relay on a thread of its own, so delivery never holds a thread ingest or queries need. A failure is
/// retried with exponential backoff (from `retryBase`, at most an hour apart) for up to a day; failures are
/// counted and logged once per episode of each target.
final class DeliveryService: Service, Sendable {
    let outbox: Outbox
    let smtp: SMTPClient?
    let logger: Logger
    let now: @Sendable () -> Int64
    let poll: Duration
    let retryBaseMs: Int64
    let http: HTTPClient
    private let counters: [String: CoreMetrics.Counter]
    private let failing = Locked(Set<String>())

    init(outbox: Outbox, smtp: SMTPClient?, metrics: TelemetryMetrics, logger: Logger, now: @escaping @Sendable () -> Int64,
         poll: Duration = .seconds(2), retryBaseMs: Int64 = 30_000) {
        self.outbox = outbox
        self.smtp = smtp
        self.logger = logger
        self.now = now
        self.poll = poll
        self.retryBaseMs = retryBaseMs
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(15))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var counters: [String: CoreMetrics.Counter] = [:]
        for channel in ["webhook", "email"] {
            for result in ["delivered", "failed", "dropped"] {
                counters[channel + "/" + result] = CoreMetrics.Counter(
                    label: "telemetry_deliveries_total", dimensions: [("channel", channel), ("result", result)], factory: metrics.factory)
            }
        }
        self.counters = counters
    }

    func run() async throws {
        // Cancelled (a sibling service failed) as well as shut down: a cancelled sleep returns at once.
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await deliverDue()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.poll) }
        }
        try? await http.shutdown()
    }

    deinit { try? http.syncShutdown() }

    /// Tries every message whose time has come, oldest first.
    func deliverDue() async {
        for (name, message) in outbox.pending() where message.next <= now() {
            if Task.isCancelled { return }
            let target = message.channel == .webhook ? "webhook " + Self.host(message.url ?? "") : "smtp"
            let failure = await deliver(message)
            let channel = message.channel.rawValue
            guard let failure else {
                outbox.remove(name)
                counters[channel + "/delivered"]?.increment()
                if failing.withLock({ $0.remove(target) }) != nil { logger.info("delivering again", metadata: ["target": "\(target)"]) }
                continue
            }
            counters[channel + "/failed"]?.increment()
            if failing.withLock({ $0.insert(target).inserted }) {
                logger.warning("delivery failed; retrying with backoff for up to a day", metadata: [
                    "target": "\(target)", "kind": "\(message.kind)", "error": "\(failure)"])
            }
            var retry = message
            retry.attempts += 1
            if now() - message.created >= Outbox.maxAgeMs {
                outbox.remove(name)
                counters[channel + "/dropped"]?.increment()
                logger.error("delivery given up after a day", metadata: ["target": "\(target)", "kind": "\(message.kind)"])
                continue
            }
            retry.next = now() + min(retryBaseMs << min(retry.attempts - 1, 20), Milliseconds.hour)
            try? outbox.update(name, retry)
        }
    }

    /// nil when delivered, else why not.
    func deliver(_ message: Outbox.Message) async -> String? {
        switch message.channel {
        case .webhook:
            guard let url = message.url else { return "no URL" }
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "telemetryd/\(TelemetryVersion.current)")
            request.body = .bytes(ByteBuffer(string: message.body))
            do {
                let response = try await http.execute(request, timeout: .seconds(20))
                _ = try? await response.body.collect(upTo: 1 << 16)
                return (200..<300).contains(response.status.code) ? nil : "HTTP \(response.status.code)"
            } catch {
                return "\(error)"
            }
        case .email:
            guard let smtp else { return "no --smtp-url" }
            let mail = SMTPClient.compose(
                from: smtp.from, to: message.to ?? [], subject: message.subject ?? "telemetryd", text: message.body, html: message.html,
                date: Date(timeIntervalSince1970: TimeInterval(message.created) / 1000), id: "\(message.created)-\(message.kind)-\(message.site)")
            return await withCheckedContinuation { (done: CheckedContinuation<String?, Never>) in
                let thread = Thread(named: "smtp") {
                    do {
                        try smtp.send(to: message.to ?? [], message: mail)
                        done.resume(returning: nil)
                    } catch {
                        done.resume(returning: "\(error)")
                    }
                }
                thread.start()
            }
        }
    }

    /// A webhook's host only: its path often holds a secret token, which stays out of the log.
    static func host(_ url: String) -> String { URLComponents(string: url)?.host ?? "?" }
}
