import Synchronization

/// The importer of each site while imports arrive through the keyed API: built once (a scan of the site's ids)
/// for the requests of one `telemetryd import --url` run, dropped two minutes after the last.
final class ImportSessions: Sendable {
    static let idleMs: Int64 = 2 * Milliseconds.minute
    private struct Session {
        var importer: EventImporter
        var lastUsed: Int64
    }
    private let sessions = Locked([String: Session]())
    let now: @Sendable () -> Int64

    init(now: @escaping @Sendable () -> Int64) { self.now = now }

    func importer(for site: Site) async throws -> EventImporter {
        let t = now()
        let cached = sessions.withLock { s -> EventImporter? in
            s = s.filter { t - $0.value.lastUsed < Self.idleMs }
            s[site.id]?.lastUsed = t
            return s[site.id]?.importer
        }
        if let cached { return cached }
        let storage = site.storage
        let importer = try await storage.queries.run { Result { try EventImporter(storage: storage) } }.get()
        sessions.withLock { $0[site.id] = Session(importer: importer, lastUsed: t) }
        return importer
    }
}
