import Hummingbird
import NIOCore
import Synchronization

/// `GET /api/analytics/users/{user_id}/events`: one user's stored raw events as NDJSON, oldest first;
/// `DELETE /api/analytics/users/{user_id}`: erases them everywhere (SPEC §4.3).
struct UsersController: Sendable {
    let dataDirectory: String
    let writer: SegmentWriter
    let index: DayIndex
    let store: AggregateStore
    let maintenance: LogMaintenanceService

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.delete("users/:user_id") { request, context in
            let id = try context.parameters.require("user_id")
            let deleted = Mutex(0)
            let eraser = UserEraser(directory: dataDirectory, index: index, store: store,
                                    maintenance: maintenance, logger: context.logger)
            // The writer pauses so the active segment can be rewritten and the index stays in step with the log.
            try await writer.withExclusiveAccess { deleted.withLock { $0 = 0 }; let n = try eraser.erase(id); deleted.withLock { $0 = n } }
            return Response.json(#"{"ok":true,"deleted":\#(deleted.withLock { $0 })}"#)
        }
        group.get("users/:user_id/events") { request, context in
            let id = try context.parameters.require("user_id")
            let events = try UserEvents(dataDirectory: dataDirectory).lines(of: id)
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(bytes: events)))
        }
    }
}

/// Finds a user's lines in the raw log: a byte search for the canonical `"user_id":"…"` first, then a parse to confirm.
public struct UserEvents {
    let dataDirectory: String

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    public func lines(of userId: String) throws -> [UInt8] {
        var needle = Array(#""user_id":""#.utf8)
        JSONString.appendEscaped(userId.utf8, into: &needle)
        needle.append(0x22)
        let canonical = Array(needle[11..<(needle.count - 1)])
        var found: [(ts: Int64, line: [UInt8])] = []
        let replay = LogReplay(directory: dataDirectory, logger: .init(label: "telemetryd"))
        for path in replay.files() {
            try SegmentReader.forEachLine(path: path) { line, _ in
                guard Self.contains(line, needle), let e = StoredEvent.parse(line), let u = e.user,
                    line[u].elementsEqual(canonical) else { return }
                found.append((e.ts, Array(line) + [0x0A]))
            }
        }
        return found.enumerated().sorted { ($0.element.ts, $0.offset) < ($1.element.ts, $1.offset) }.flatMap(\.element.line)
    }

    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count, let first = needle.first else { return false }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && needle.indices.allSatisfy({ haystack[i + $0] == needle[$0] }) { return true }
            i += 1
        }
        return false
    }
}
