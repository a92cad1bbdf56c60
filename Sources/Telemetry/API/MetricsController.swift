import Hummingbird
import NIOCore

/// `GET /metrics`: Prometheus text; gauges that are cheap to sample are sampled at scrape time.
struct MetricsController: Sendable {
    let sites: Sites

    func addRoutes(to router: Router<TelemetryRequestContext>) {
        router.get("metrics") { _, _ in
            // Sampled gauges sum over the sites.
            let metrics = sites.metrics
            let storages = sites.all.map(\.storage)
            func sum(_ value: (Storage) -> Int) -> Int { storages.reduce(0) { $0 + value($1) } }
            metrics.segments.record(sum { s in
                FileSystem.list(s.configuration.dataDirectory).filter { SegmentName(fileName: $0) != nil }.count + 1
            })
            metrics.indexUsers.record(sum { $0.index.userCount })
            metrics.indexDays.record(storages.map(\.index.dayCount).max() ?? 0)
            metrics.indexMemoryBytes.record(sum { $0.index.memoryBytes })
            metrics.tableEvents.record(sum { $0.table.eventCount })
            metrics.tableMemoryBytes.record(sum { $0.table.memoryBytes })
            metrics.tableFileBytes.record(sum { $0.table.fileBytes })
            metrics.dedupIds.record(sum { $0.dedup.count })
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
    }
}

/// Times every request for `telemetry_request_duration_seconds` and logs one line per request at debug
/// (method, route, status, duration: never the client address or a key).
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = TelemetryRequestContext
    let metrics: TelemetryMetrics
    let alerts: AlertMonitor

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        defer {
            let elapsed = started.duration(to: .now)
            let nanos = elapsed.nanoseconds
            let route = context.endpointPath ?? "unmatched"
            metrics.request(route: route, method: request.method.rawValue, status: status, nanoseconds: nanos)
            if route == "/api/analytics/event", request.method == .post, status == 200 || status == 503 {
                alerts.ingest(failed: status == 503)
            } else if route.hasPrefix("/api/analytics/"), status == 200 {
                alerts.query(milliseconds: Double(nanos) / 1e6)
            }
            context.logger.debug("request", metadata: [
                "method": "\(request.method.rawValue)", "route": "\(route)", "status": "\(status)", "ms": "\(Double(nanos) / 1e6)",
            ])
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }
}
