import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to one ClickHouse server over its HTTP interface: statements in the body, settings in the query string,
/// the user and password as HTTP basic authentication (every version since 1.1 reads it).
final class ClickHouseClient: Sendable {
    /// What ClickHouse answered instead of 200, or why it could not be reached.
    struct Failure: Error, CustomStringConvertible {
        var status: Int?
        var message: String
        var description: String { status.map { "HTTP \($0): \(message)" } ?? message }
    }

    let settings: ClickHouseSettings
    private let http: HTTPClient
    private let authorization: String

    init(settings: ClickHouseSettings) {
        self.settings = settings
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        authorization = "Basic " + Data("\(settings.user):\(settings.password)".utf8).base64EncodedString()
    }

    deinit { try? http.syncShutdown() }

    func shutdown() async { try? await http.shutdown() }

    /// Runs `sql` and returns what ClickHouse printed. `parameters` are added to the query string (settings such
    /// as `insert_deduplication_token`); `body` follows the statement (the rows of an `INSERT`), gzip-compressed
    /// when `gzipped`.
    func execute(
        _ sql: String, parameters: [(String, String)] = [], body: [UInt8]? = nil, gzipped: Bool = false,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> [UInt8] {
        var query = parameters
        var payload: [UInt8]
        if let body {
            // The statement goes in the query string when the body carries the rows.
            query.append(("query", sql))
            payload = body
        } else {
            payload = Array(sql.utf8)
        }
        let url = (settings.url ?? "") + "/?" + query.map { "\($0.0)=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "User-Agent", value: "telemetryd/\(TelemetryVersion.current)")
        if gzipped { request.headers.add(name: "Content-Encoding", value: "gzip") }
        request.body = .bytes(ByteBuffer(bytes: payload))
        payload = []
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw Failure(status: nil, message: "\(error)")
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try await response.body.collect(upTo: 256 << 20).readableBytesView)
        } catch {
            throw Failure(status: nil, message: "reading ClickHouse's answer: \(error)")
        }
        guard response.status == .ok else {
            let text = String(decoding: bytes.prefix(600), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(status: Int(response.status.code), message: text)
        }
        return bytes
    }

    /// The rows of a `FORMAT JSONEachRow` query, each a JSON object.
    func rows(_ sql: String) async throws -> [[String: Any]] {
        // wait_end_of_query: an error in the middle of a query is a 500, not text after a 200's first rows.
        let bytes = try await execute(sql + " FORMAT JSONEachRow", parameters: [("wait_end_of_query", "1")])
        var out: [[String: Any]] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let row = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw Failure(status: nil, message: "unreadable row from ClickHouse: \(String(decoding: line.prefix(200), as: UTF8.self))")
            }
            out.append(row)
        }
        return out
    }

    /// The server's major version (18 for Debian 12's 18.16).
    func majorVersion() async throws -> Int {
        let text = String(decoding: try await execute("SELECT version()"), as: UTF8.self)
        guard let major = Int(text.split(separator: ".").first ?? "") else {
            throw Failure(status: nil, message: "unexpected version answer \"\(text.prefix(80))\"")
        }
        return major
    }

    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        return out
    }

    /// `s` as a ClickHouse string literal.
    static func literal(_ s: String) -> String {
        var out = "'"
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\0": out += "\\0"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "'"
    }
}
