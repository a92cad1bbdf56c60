import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
@testable import Telemetry

/// ClickHouse's HTTP interface as far as the sink uses it, in memory: it answers `SELECT version()`, takes the
/// `CREATE` statements, stores the rows of each `INSERT … FORMAT JSONEachRow` (gzip bodies) and drops an insert
/// whose `insert_deduplication_token` it has seen, as a server with a deduplication window does; it records
/// deletes. `refusing` makes every request fail with a 500, as a server that is down or overloaded.
final class FakeClickHouse: Sendable {
    struct State {
        /// Every row received, in order (resent rows too).
        var rows: [[String: Any]] = []
        var tokens: Set<String> = []
        var deletes: [String] = []
        var inserts = 0
    }

    let state = Locked(State())
    let refusing = Atomic<Bool>(false)
    let version: String

    init(version: String = "24.8.4.13") { self.version = version }

    /// The rows a `FINAL` query sees: one per key (the last received), without the deleted users' rows.
    var finalRows: [String: [String: Any]] {
        state.withLock { s in
            var byKey: [String: [String: Any]] = [:]
            for row in s.rows { byKey[row["key"] as! String] = row }
            return byKey
        }
    }

    /// Serves on a loopback port for the length of `body`, which gets the server's URL.
    func serve(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.post("/") { request, _ -> Response in
            if self.refusing.load(ordering: .relaxed) { return Response(status: .internalServerError) }
            let parameters = request.uri.queryParameters
            var payload = Array(try await request.body.collect(upTo: 64 << 20).readableBytesView)
            if request.headers[.contentEncoding] == "gzip" { payload = try Self.gunzip(payload) }
            guard let query = parameters["query"].map({ String($0) }) else {
                let statement = String(decoding: payload, as: UTF8.self)
                if statement.hasPrefix("SELECT version()") { return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: self.version + "\n"))) }
                if statement.contains("system.mutations") { return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "0\n"))) }
                if statement.hasPrefix("DELETE") || statement.hasPrefix("ALTER") { self.state.withLock { $0.deletes.append(statement) } }
                if statement.hasPrefix("DELETE") || statement.hasPrefix("ALTER") {
                    let user = statement.components(separatedBy: "user_id = '").last?.dropLast() ?? ""
                    self.state.withLock { s in s.rows.removeAll { $0["user_id"] as? String == String(user) } }
                }
                return Response(status: .ok)
            }
            precondition(query.hasPrefix("INSERT"), "unexpected statement \(query)")
            let token = parameters["insert_deduplication_token"].map { String($0) }
            try self.state.withLock { s in
                s.inserts += 1
                if let token, !s.tokens.insert(token).inserted { return }
                for line in payload.split(separator: UInt8(ascii: "\n")) {
                    s.rows.append(try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any])
                }
            }
            return Response(status: .ok)
        }
        try await Application(router: router).test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let path = NSTemporaryDirectory() + "fake-clickhouse-\(UUID().uuidString).gz"
        try PosixFileIO().writeAtomically(path, bytes, syncDirectory: false)
        defer { try? FileSystem.unlink(path) }
        var out: [UInt8] = []
        try Gzip.decompressFile(path) { out.append(contentsOf: $0) }
        return out
    }
}
