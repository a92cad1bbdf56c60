import Hummingbird

/// `GET /api/analytics/schemas`: the event schemas in force, as the file states them (docs/schemas.md).
struct SchemasController: Sendable {
    let store: SchemaStore

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("schemas") { _, _ in
            Response.json(#"{"ok":true,"schemas":\#(store.schemas?.text ?? "null")}"#)
        }
    }
}
