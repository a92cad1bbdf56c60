import Dispatch
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Reloads the event schemas on SIGHUP (`systemctl reload telemetryd`) without dropping a connection.
struct SchemaReloadService: Service {
    let store: SchemaStore
    let logger: Logger

    func run() async throws {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        let (store, logger) = (store, logger)
        source.setEventHandler { store.reload(logger: logger) }
        source.resume()
        try? await gracefulShutdown()
        source.cancel()
    }
}
