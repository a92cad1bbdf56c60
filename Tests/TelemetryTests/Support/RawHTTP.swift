import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over a loopback socket, for tests against the real binary.
struct RawHTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    let port: Int

    /// Sends raw request bytes and reads one reply; nil when the connection failed or was cut.
    static func exchange(port: Int, _ request: [UInt8], timeout: Double = 10) -> Reply? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return nil }
            sent += n
        }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[0..<n]
            if let reply = parse(data) { return reply }
        }
        return parse(data)
    }

    static func parse(_ data: [UInt8]) -> Reply? {
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2,
            let status = Int(statusLine.split(separator: " ")[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let body = String(text[split.upperBound...])
        if let length = headers["content-length"].flatMap(Int.init), body.utf8.count < length { return nil }
        return Reply(status: status, headers: headers, body: body)
    }

    func post(_ path: String, _ body: String, headers: [String: String] = [:]) -> Reply? {
        var request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        for (k, v) in headers { request += "\(k): \(v)\r\n" }
        return Self.exchange(port: port, Array((request + "\r\n" + body).utf8))
    }

    func get(_ path: String, headers: [String: String] = [:]) -> Reply? {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { request += "\(k): \(v)\r\n" }
        return Self.exchange(port: port, Array((request + "\r\n").utf8))
    }
}

/// The real `telemetryd` binary, started as a child process.
final class Daemon {
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["TELEMETRYD_BINARY"] { return path }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        for config in ["debug", "release"] {
            let path = url.appendingPathComponent(".build/\(config)/telemetryd").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return url.appendingPathComponent(".build/debug/telemetryd").path
    }()

    let process = Process()
    let port: Int
    let logPath: String

    /// Starts the binary; waits for `/health` unless `waitForHealth` is false (a daemon meant to die during start-up).
    init(
        dataDirectory: String, arguments: [String] = [], environment: [String: String] = [:], port: Int = Daemon.freePort(),
        waitForHealth: Bool = true
    ) throws {
        self.port = port
        logPath = dataDirectory + ".log"
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--data-dir", dataDirectory, "--port", "\(port)", "--rate-limit", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        guard waitForHealth else { return }
        // Up to a minute: under the full parallel test run a debug daemon's start-up competes with every suite.
        for _ in 0..<1200 {
            if RawHTTP(port: port).get("/health")?.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw NSError(domain: "daemon", code: 1, userInfo: [NSLocalizedDescriptionKey: "telemetryd did not start: \(log)"])
    }

    var http: RawHTTP { RawHTTP(port: port) }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits up to `seconds` for the process to end; true when it was killed by SIGKILL.
    func diedOfSIGKILL(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard !process.isRunning else { return false }
        return process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
    }

    func terminate() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

/// Runs the real `telemetryd` with `arguments` to completion: its exit status and its stdout, trimmed.
func runTelemetryd(_ arguments: [String]) throws -> (status: Int32, out: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Daemon.binary)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, out.trimmingCharacters(in: .whitespacesAndNewlines))
}
