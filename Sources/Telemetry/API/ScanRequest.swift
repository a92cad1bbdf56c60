import Hummingbird

extension ScanPool {
    /// Runs a scan of the raw log for `request` off the cooperative pool; the scan stops when the client
    /// disconnects, and when `limit` scans are running the client is told to come back (503 + Retry-After).
    func answer<T: Sendable>(_ request: Request, _ work: @escaping @Sendable (ScanCancellation) throws -> T) async throws -> T {
        do {
            return try await request.body.consumeWithCancellationOnInboundClose { _ in try await run(work) }
        } catch is ScanPool.Busy {
            throw APIError(.serviceUnavailable, "too many analyses are running; retry shortly", headers: [.retryAfter: "2"])
        }
    }
}
