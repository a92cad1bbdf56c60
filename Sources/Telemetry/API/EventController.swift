import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /api/analytics/event` and its preflight (docs/api.md).
struct EventController: Sendable {
    let sites: Sites
    let rateLimiter: RateLimiter
    let clients: ClientAddress
    let cors: CORSPolicy
    let dimensions: DimensionSource
    let bots: BotFilter
    let now: @Sendable () -> Int64

    func addRoutes(to router: Router<TelemetryRequestContext>) {
        let group = router.group("api/analytics/event").add(middleware: EventCORSMiddleware(policy: cors))
        group.post(use: post)
        group.on("", method: .options) { request, _ in cors.preflight(for: request) }
    }

    @Sendable func post(_ request: Request, context: TelemetryRequestContext) async throws -> Response {
        let client = clients.resolve(peer: context.peerAddress, forwardedFor: request.headers[.xForwardedFor])
        if let wait = rateLimiter.check(client, now: now()) {
            throw APIError(.tooManyRequests, "rate limit exceeded; retry later", headers: [.retryAfter: String(wait)])
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > EventDecoder.maxBodyBytes {
            throw APIError(.contentTooLarge, "body exceeds 1 MiB")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: EventDecoder.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            // A body without Content-Length (chunked) that runs past the limit: NIO's error, not an HTTPError.
            throw APIError(.contentTooLarge, "body exceeds 1 MiB")
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "body exceeds 1 MiB")
        }
        let outcome: EventIngestor.Outcome
        do {
            let userAgent = request.headers[.userAgent]
            let botReason = bots.requestReason(userAgent: userAgent)
            var derived = dimensions.dimensions(userAgent: userAgent, client: client)
            if botReason != nil && bots.keep { derived = derived.markedAsBot() }
            let batch = try body.withUnsafeReadableBytes { raw in
                try sites.decode(raw.assumingMemoryBound(to: UInt8.self), dimensions: derived)
            }
            let siteID = batch.site ?? SiteDefinition.defaultID
            guard let site = sites.site(siteID) else {
                throw APIError(.badRequest, sites.configuration.sites.isEmpty && batch.site != nil
                    ? "unknown site \"\(siteID)\": this daemon has no sites file, so only \"default\""
                    : "unknown site \"\(siteID)\"")
            }
            // A site that declares its origins takes events from those only; without a sites file the origins
            // only govern what a browser may read (CORS), as in a single-site daemon.
            if !site.definition.origins.isEmpty, let origin = request.headers[.origin], !site.cors.allows(origin) {
                throw APIError(.forbidden, "origin \(origin) may not send events for site \"\(siteID)\"")
            }
            // Repeats first, so a resent batch does not count twice toward its session's rate.
            var prepared = site.storage.ingestor.prepare(batch)
            bots.apply(to: &prepared.batch, request: botReason, site: siteID)
            outcome = try await site.storage.ingestor.store(prepared)
        } catch let error as BatchError {
            var apiError = APIError(error.kind == .tooLarge ? .contentTooLarge : .badRequest, error.message)
            if !error.rejected.isEmpty {
                let rejected = error.rejected
                apiError.extra = { w in Self.writeRejected(rejected, &w) }
            }
            throw apiError
        } catch let error as StorageError {
            throw APIError(.serviceUnavailable, "events could not be stored; retry later", headers: [.retryAfter: "5"])
                .logged(error, context)
        }
        let text = JSONWriter.build { w in
            w.field("ok", true)
            w.field("logged", outcome.logged)
            if outcome.ignored > 0 { w.field("ignored", outcome.ignored) }
            if outcome.duplicates > 0 { w.field("duplicates", outcome.duplicates) }
            if outcome.bots > 0 { w.field("bots", outcome.bots) }
            if !outcome.rejected.isEmpty { Self.writeRejected(outcome.rejected, &w) }
        }
        return .json(text)
    }

    static func writeRejected(_ rejected: [DecodedBatch.Rejection], _ w: inout JSONWriter) {
        w.key("rejected")
        w.array { w in
            for r in rejected {
                w.object { w in
                    w.field("index", r.index)
                    w.field("error", r.error)
                }
            }
        }
    }
}

extension APIError {
    func logged(_ error: StorageError, _ context: TelemetryRequestContext) -> APIError {
        context.logger.warning("batch not stored", metadata: ["reason": "\(error)"])
        return self
    }
}
