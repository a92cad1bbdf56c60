import Hummingbird
import NIOCore

/// `GET /api/analytics/users/{user_id}/events`: one user's stored raw events as NDJSON, oldest first;
/// `DELETE /api/analytics/users/{user_id}`: erases them everywhere (docs/api.md).
struct UsersController: Sendable {

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.delete("users/:user_id") { request, context in
            let id = try context.parameters.decoded("user_id")
            let storage = try context.requireSite().storage
            let deleted = try await storage.eraseUser(id)
            return Response.json(#"{"ok":true,"deleted":\#(deleted)}"#)
        }
        group.get("users/:user_id/events") { request, context in
            let id = try context.parameters.decoded("user_id")
            let storage = try context.requireSite().storage
            let directory = storage.configuration.dataDirectory
            let events = try await storage.scans.answer(request) { cancellation in
                try UserEvents(dataDirectory: directory, cancellation: cancellation).lines(of: id)
            }
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(bytes: events)))
        }
    }
}
