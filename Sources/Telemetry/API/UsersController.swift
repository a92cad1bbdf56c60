import Hummingbird
import NIOCore

/// `GET /api/analytics/users/{user_id}/events`: one user's stored raw events as NDJSON, oldest first;
/// `DELETE /api/analytics/users/{user_id}`: erases them everywhere (docs/api.md).
struct UsersController: Sendable {

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.delete("users/:user_id") { request, context in
            let id = try context.parameters.decoded("user_id")
            let site = try context.requireSite()
            let deleted = try await site.storage.eraseUser(id)
            guard let sink = site.sink else { return Response.json(#"{"ok":true,"deleted":\#(deleted)}"#) }
            // The rows ClickHouse holds go in the same call when it answers; otherwise the sink deletes them
            // before it ships anything else.
            let done = (try? await sink.carryOutErasures()) != nil
            return Response.json(#"{"ok":true,"deleted":\#(deleted),"clickhouse":"\#(done ? "deleted" : "pending")"}"#)
        }
        group.get("users/:user_id/events") { request, context in
            let id = try context.parameters.decoded("user_id")
            let site = try context.requireSite()
            let storage = site.storage
            let directory = storage.configuration.dataDirectory
            var events = try await storage.scans.answer(request) { cancellation in
                try UserEvents(dataDirectory: directory, cancellation: cancellation).lines(of: id)
            }
            if let clickhouse = site.clickhouse {
                // Every instance's events from ClickHouse, then this instance's not shipped yet.
                events = try await clickhouse.userLines(id, local: events)
            }
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(bytes: events)))
        }
    }
}
