#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A plain SMTP client (RFC 5321: EHLO, MAIL, RCPT, DATA) for a relay on the local network, such as a local
/// Postfix, an `smtp://` relay of the hosting provider, or a test sink. No TLS and no authentication: point it at
/// a relay that adds them. Blocking; runs on a thread of its own.
struct SMTPClient: Sendable {
    let host: String
    let port: Int
    let from: String
    let timeoutSeconds: Int

    /// `smtp://host[:port]` (port 25 by default).
    init?(url: String, from: String, timeoutSeconds: Int = 30) {
        guard let u = URLComponents(string: url), u.scheme == "smtp", let host = u.host, !host.isEmpty else { return nil }
        self.host = host
        self.port = u.port ?? 25
        self.from = from
        self.timeoutSeconds = timeoutSeconds
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A multipart/alternative mail with a plain-text and an HTML part.
    static func compose(from: String, to: [String], subject: String, text: String, html: String?, date: Date, id: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let boundary = "telemetryd-" + id
        var lines = [
            "From: \(from)", "To: \(to.joined(separator: ", "))", "Subject: \(subject)", "Date: \(formatter.string(from: date))",
            "Message-ID: <\(id)@telemetryd>", "MIME-Version: 1.0",
        ]
        if let html {
            lines += ["Content-Type: multipart/alternative; boundary=\"\(boundary)\"", "", "--\(boundary)",
                      "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", text, "--\(boundary)",
                      "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", html, "--\(boundary)--"]
        } else {
            lines += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", text]
        }
        return lines.joined(separator: "\r\n").replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
    }

    func send(to recipients: [String], message: String) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { throw Failure(description: "cannot resolve \(host)") }
        defer { freeaddrinfo(list) }
        var fd: Int32 = -1
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let a = cursor {
            fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 && connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { break }
            if fd >= 0 { close(fd) }
            fd = -1
            cursor = a.pointee.ai_next
        }
        guard fd >= 0 else { throw Failure(description: "cannot connect to \(host):\(port)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []

        func reply() throws -> Int {
            // A reply is one or more lines; the last has a space after its code.
            while true {
                if let end = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[..<end], as: UTF8.self)
                    buffer.removeFirst(end + 1)
                    guard line.count >= 3, let code = Int(line.prefix(3)) else { throw Failure(description: "bad SMTP reply: \(line)") }
                    if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return code }
                    continue
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &chunk, chunk.count, 0)
                guard n > 0 else { throw Failure(description: "the SMTP server closed the connection") }
                buffer += chunk[..<n]
            }
        }
        func command(_ text: String, expect: ClosedRange<Int>) throws {
            let bytes = Array((text + "\r\n").utf8)
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(description: "cannot write to the SMTP server") }
                sent += n
            }
            let code = try reply()
            guard expect.contains(code) else { throw Failure(description: "SMTP server answered \(code) to \(text.prefix(4))") }
        }
        guard (200...299).contains(try reply()) else { throw Failure(description: "SMTP server refused the connection") }
        try command("EHLO telemetryd", expect: 250...250)
        try command("MAIL FROM:<\(from)>", expect: 250...250)
        for r in recipients { try command("RCPT TO:<\(r)>", expect: 250...251) }
        try command("DATA", expect: 354...354)
        // Dot-stuffing (RFC 5321 4.5.2), then the terminating line.
        let body = message.split(separator: "\r\n", omittingEmptySubsequences: false).map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        try command(body.joined(separator: "\r\n") + "\r\n.", expect: 250...250)
        try? command("QUIT", expect: 221...221)
    }
}
