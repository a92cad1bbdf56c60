import Logging
import Synchronization

/// The event schemas in force: loaded at start-up from `--event-schemas`, replaced on SIGHUP when the file
/// still parses (a broken file is logged and the schemas in force stay).
public final class SchemaStore: Sendable {
    let path: String?
    private let current: Locked<EventSchemas?>

    init(path: String?) throws(ConfigurationError) {
        self.path = path
        current = Locked(try path.map { path throws(ConfigurationError) in try EventSchemas.read(path) })
    }

    var schemas: EventSchemas? { current.withLock { $0 } }

    /// Re-reads the file; returns false (and keeps the old schemas) when it no longer parses.
    @discardableResult
    func reload(logger: Logger) -> Bool {
        guard let path else { return true }
        do {
            let schemas = try EventSchemas.read(path)
            current.withLock { $0 = schemas }
            logger.info("event schemas reloaded", metadata: ["types": "\(schemas.types.count)"])
            return true
        } catch {
            logger.error("event schemas not reloaded: the file is broken; the previous schemas stay", metadata: ["error": "\(error.description)"])
            return false
        }
    }
}
