import Hummingbird

extension ScanPool {
    /// Runs a scan of the raw log for `request` off the cooperative pool; the scan stops when the client
    /// disconnects, and when `limit` scans are running the client is told to come back (503 + Retry-After).
    func answer<T: Sendable>(_ request: Request, _ work: @escaping @Sendable (ScanCancellation) throws -> T) async throws -> T {
        let busy = APIError(.serviceUnavailable, "too many analyses are running; retry shortly", headers: [.retryAfter: "2"])
        // Refused before the body is handed over, so the connection stays open for the retry.
        guard active < limit else { throw busy }
        do {
            return try await request.body.consumeWithCancellationOnInboundClose { _ in try await run(work) }
        } catch is ScanPool.Busy {
            throw busy
        }
    }
}
