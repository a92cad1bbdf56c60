#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import ServiceLifecycle

/// The sd_notify protocol without libsystemd: datagrams to `$NOTIFY_SOCKET`.
public struct SystemdNotifier: Sendable {
    let socketPath: String

    /// nil when not started by systemd with `Type=notify`.
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty else { return nil }
        socketPath = path
    }

    @discardableResult
    public func notify(_ state: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }  // a Linux abstract socket name starts with NUL
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (abstract ? 0 : 1))
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { addr in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), addr, length) }
            }
        }
        return sent == message.count
    }

    /// `WATCHDOG_USEC` for this process, when systemd's watchdog is on.
    public static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration? {
        guard let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return .microseconds(usec)
    }
}

/// Pings systemd's watchdog while the log is healthy, and says STOPPING on shutdown (READY comes from the server's start).
/// The pings come from a thread of their own, so no request and no busy cooperative pool can hold them back.
public struct SystemdService: Service {
    let notifier: SystemdNotifier
    let watchdog: Duration?
    let isHealthy: @Sendable () -> Bool
    let logger: Logger

    public init(notifier: SystemdNotifier, watchdog: Duration?, isHealthy: @escaping @Sendable () -> Bool, logger: Logger) {
        self.notifier = notifier
        self.watchdog = watchdog
        self.isHealthy = isHealthy
        self.logger = logger
    }

    public func run() async throws {
        let stop = AtomicFlag()
        if let watchdog {
            let interval = (watchdog / 2).seconds
            let (notifier, isHealthy, logger) = (notifier, isHealthy, logger)
            let thread = Thread(named: "watchdog") {
                // Ping at half the interval; a failed log stops the pings, so systemd restarts us and recovery runs.
                while !stop.isSet {
                    Thread.sleep(forTimeInterval: interval)
                    if stop.isSet { break }
                    if isHealthy() {
                        notifier.notify("WATCHDOG=1")
                    } else {
                        logger.error("event log unhealthy: withholding the watchdog ping")
                    }
                }
            }
            thread.start()
        }
        try? await gracefulShutdown()
        stop.set()
        notifier.notify("STOPPING=1")
    }
}
