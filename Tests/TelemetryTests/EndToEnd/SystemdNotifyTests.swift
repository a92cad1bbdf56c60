import Foundation
import Testing
@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notify socket.
final class NotifySocket {
    let path: String
    let fd: Int32

    init(path: String) {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Messages received until `deadline` or until `until` is satisfied.
    func receive(for seconds: Double, until: ([String]) -> Bool = { _ in false }) -> [String] {
        var messages: [String] = []
        let end = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < end && !until(messages) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { messages.append(String(decoding: buffer[0..<n], as: UTF8.self)) }
        }
        return messages
    }
}

@Suite(.serialized) struct SystemdNotifyTests {
    @Test func readyAfterStartWatchdogPingsAndStoppingOnShutdown() async throws {
        let dir = TempDirectory()
        let socket = NotifySocket(path: dir.path + "/notify.sock")
        let daemon = try Daemon(dataDirectory: dir.path + "/data",
                                environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"])
        let early = socket.receive(for: 3) { m in m.filter { $0 == "WATCHDOG=1" }.count >= 2 }
        #expect(early.first?.hasPrefix("READY=1") == true)
        #expect(early.filter { $0 == "WATCHDOG=1" }.count >= 2)
        kill(daemon.process.processIdentifier, SIGTERM)
        let late = socket.receive(for: 5) { $0.contains("STOPPING=1") }
        daemon.process.waitUntilExit()
        #expect(late.contains("STOPPING=1"))
        #expect(daemon.process.terminationStatus == 0)
    }

    @Test func notifierSpeaksToAbstractSockets() {
        #expect(SystemdNotifier(environment: [:]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@telemetry-test-\(getpid())"]) != nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000"]) == .seconds(2))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"]) == nil)
    }
}
