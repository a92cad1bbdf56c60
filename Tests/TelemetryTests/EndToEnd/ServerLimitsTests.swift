import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// What one client may hold of the server, over real sockets (`.live`): the body cap, the slow-client and idle
/// timeouts. Each test serves a fresh directory with its own small limits, so a timeout takes
/// a fraction of a second. Serialized: the timings should not compete with each other. The time limit catches a
/// hang, not slowness: under the whole suite's load on two cores a case has taken over a minute to be served.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServerLimitsTests {
    static let small = ServerLimits(
        headerTimeout: .milliseconds(300), bodyTimeout: .milliseconds(300), idleTimeout: .milliseconds(500), maxConnections: 2)

    static let health = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    /// Serves a fresh data directory with `limits` on a loopback port for the length of `test`. The application's
    /// `StorageService` closes the storage when the server stops, so the test does not.
    func serve(
        _ limits: ServerLimits,
        _ test: @escaping @Sendable (_ port: Int, _ client: any TestClientProtocol, _ dir: TempDirectory) async throws -> Void
    ) async throws {
        let dir = TempDirectory()
        var configuration = testConfiguration(dir)
        configuration.host = "127.0.0.1"
        let storage = try Storage.open(configuration, logger: quietLogger)
        let app = buildApplication(storage: storage, logger: quietLogger, limits: limits)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await test(port, client, dir)
        }
    }

    @Test(arguments: [false, true])
    func aBodyOver1MiBGets413WithTheJSONErrorAndNothingIsStored(chunked: Bool) async throws {
        // Timeouts far above the answer's time: this test is about the cap. With 2 s, a loaded CI machine once
        // let the body timeout (the head-only request never sends its body) close the connection before the
        // handler had answered from the head.
        let limits = ServerLimits(headerTimeout: .seconds(60), bodyTimeout: .seconds(60), idleTimeout: .seconds(60), maxConnections: 16)
        try await serve(limits) { port, _, dir in
            // A batch that would be stored but for its size: valid JSON, padded with whitespace past 1 MiB.
            let json = Array((#"{"events":[{"event_type":"too_big"}]"# + String(repeating: " ", count: EventDecoder.maxBodyBytes) + "}").utf8)
            // Declared up front (answered from the head alone), or chunked (cut off once 1 MiB has been read).
            // Keep-alive, so the server reads the rest of the body instead of resetting the connection under the answer.
            var request = Array("POST /api/analytics/event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".utf8)
            if chunked {
                request.append(contentsOf: Array("Transfer-Encoding: chunked\r\n\r\n".utf8))
                var offset = 0
                while offset < json.count {
                    let end = min(offset + 65_536, json.count)
                    request.append(contentsOf: Array("\(String(end - offset, radix: 16))\r\n".utf8))
                    request.append(contentsOf: json[offset..<end])
                    request.append(contentsOf: Array("\r\n".utf8))
                    offset = end
                }
                request.append(contentsOf: Array("0\r\n\r\n".utf8))
            } else {
                // Only the head: the answer must come before any of the body is sent (sending the body too would race
                // the server's close of the connection against the client reading the answer).
                request.append(contentsOf: Array("Content-Length: \(json.count)\r\n\r\n".utf8))
            }
            let bytes = request
            let reply = await blocking { () -> RawHTTP.Reply? in
                guard let connection = RawConnection(port: port) else { return nil }
                connection.transmit(bytes)
                // A generous bound: under a loaded CI machine the answer has taken over 5 s to come.
                return connection.reply(within: .seconds(60))
            }
            let r = try #require(reply, "no answer")
            #expect(r.status == 413)
            #expect(r.headers["content-type"] == "application/json")
            #expect(r.body == #"{"ok":false,"error":"body exceeds 1 MiB"}"#)
            #expect(dir.lines().isEmpty)
        }
    }

    @Test func aClientSendingOnlyPartOfARequestHeadIsDisconnectedAfterTheHeaderTimeout() async throws {
        try await serve(Self.small) { port, _, _ in
            let outcome = await blocking { () -> (closedAfter: Duration?, received: Int) in
                let started = ContinuousClock.now
                guard let connection = RawConnection(port: port) else { return (nil, 0) }
                connection.transmit("POST /api/analytics/event HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                var received = 0
                // A header line every 100 ms: the connection is never idle, but the head never completes.
                while started.duration(to: .now) < .seconds(3) {
                    switch connection.receive(within: .milliseconds(100)) {
                    case .closed: return (started.duration(to: .now), received)
                    case .bytes(let b): received += b.count
                    case .nothing: connection.transmit("X-Slow: 1\r\n")
                    }
                }
                return (nil, received)
            }
            let closedAfter = try #require(outcome.closedAfter, "the connection was still open after 3 s")
            #expect(closedAfter >= .milliseconds(250))
            #expect(closedAfter < .seconds(2))
            #expect(outcome.received == 0)
        }
    }

    @Test func aBodyThatStopsHalfWayIsCutOffAfterTheBodyTimeoutAndNothingIsStored() async throws {
        let limits = ServerLimits(headerTimeout: .seconds(5), bodyTimeout: .milliseconds(300), idleTimeout: .seconds(5), maxConnections: 16)
        try await serve(limits) { port, _, dir in
            let closedAfter = await blocking { () -> Duration? in
                guard let connection = RawConnection(port: port) else { return nil }
                let started = ContinuousClock.now
                connection.transmit(
                    "POST /api/analytics/event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                        + #"{"events":[{"#)
                return connection.closeTime(within: .seconds(3)).map { started.duration(to: $0) }
            }
            let after = try #require(closedAfter, "the connection was still open after 3 s")
            #expect(after >= .milliseconds(250))
            #expect(after < .seconds(2))
            #expect(dir.lines().isEmpty)
        }
    }

    @Test func theIdleTimeoutClosesAnIdleKeepAliveConnection() async throws {
        // A quiet connection is also ended by the header timeout; it is longer here, so what closes it is the idle timeout.
        let limits = ServerLimits(headerTimeout: .seconds(5), bodyTimeout: .seconds(5), idleTimeout: .milliseconds(500), maxConnections: 16)
        try await serve(limits) { port, _, _ in
            let outcome = await blocking { () -> (reply: RawHTTP.Reply?, closedAfter: Duration?) in
                guard let connection = RawConnection(port: port) else { return (nil, nil) }
                let reply = connection.exchange(Self.health)
                let answered = ContinuousClock.now
                return (reply, connection.closeTime(within: .seconds(3)).map { answered.duration(to: $0) })
            }
            let reply = try #require(outcome.reply, "no answer")
            #expect(reply.status == 200)
            #expect(reply.headers["connection"]?.lowercased() != "close")
            let closedAfter = try #require(outcome.closedAfter, "the idle connection was still open after 3 s")
            #expect(closedAfter >= .milliseconds(200))
            #expect(closedAfter < .seconds(2))
        }
    }
}

/// Runs blocking socket calls on a thread of their own, so they never hold one of the few cooperative threads
/// the server's request handlers also need (two on a two-core machine).
private func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

/// One client connection over a loopback socket that stays open across requests (`RawHTTP`'s close after one).
/// Its calls block: run them through `blocking`.
private final class RawConnection: Sendable {
    enum Received: Equatable, Sendable {
        case bytes([UInt8])
        case closed
        case nothing
    }

    let fd: Int32

    /// Connects; nil when refused. A server at its connection cap still lets the handshake complete: the
    /// connection waits in the listen backlog until the server accepts it.
    init?(port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends all of `bytes`; false when the server has closed the connection.
    @discardableResult
    func transmit(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func transmit(_ text: String) -> Bool { transmit(Array(text.utf8)) }

    /// What the server sends next, waiting up to `timeout`: bytes, the end of the stream (or a reset), or nothing.
    func receive(within timeout: Duration) -> Received {
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return .nothing }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? .bytes(Array(buffer[0..<n])) : .closed
    }

    /// The next whole reply; nil when none came within `timeout` or the connection closed first.
    func reply(within timeout: Duration = .seconds(2)) -> RawHTTP.Reply? {
        let deadline = ContinuousClock.now + timeout
        var data: [UInt8] = []
        while case .bytes(let bytes) = receive(within: ContinuousClock.now.duration(to: deadline)) {
            data += bytes
            if let reply = RawHTTP.parse(data) { return reply }
        }
        return nil
    }

    /// Sends `request` and waits for its reply.
    func exchange(_ request: String, within timeout: Duration = .seconds(2)) -> RawHTTP.Reply? {
        transmit(request) ? reply(within: timeout) : nil
    }

    /// When the server closed the connection (skipping anything it sent first); nil when still open after `timeout`.
    func closeTime(within timeout: Duration) -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        var received = receive(within: timeout)
        while case .bytes = received { received = receive(within: ContinuousClock.now.duration(to: deadline)) }
        return received == .closed ? ContinuousClock.now : nil
    }

    /// Ends the client's side: the server reads the end of the stream. The descriptor closes with the object.
    func hangUp() { _ = shutdown(fd, Int32(SHUT_RDWR)) }
}
