import HTTPTypes
import Hummingbird

/// Guards the keyed API (docs/sites.md): finds who is asking from `X-Dash-Key` or a share token
/// (`X-Share-Token` or `?share=`), keeps share tokens to the read-only endpoints, and resolves the site the
/// request reads from `site=` (default: the key's only site, else `default`).
struct SiteAccessMiddleware: RouterMiddleware {
    typealias Context = TelemetryRequestContext
    let sites: Sites

    /// The endpoints (first path component after `/api/analytics/`) a share token opens, GET only.
    static let sharedEndpoints: Set<String> = [
        "usage", "daily", "trends", "hours", "live", "breakdown", "visits", "funnel", "retention", "experiments", "rollups",
        "export.csv", "features.csv", "sites",
    ]
    /// Keyed endpoints that do not read one site.
    static let siteless: Set<String> = ["sites", "schemas"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let scope = try authenticate(request)
        let endpoint = Self.endpoint(of: request.uri.path)
        if scope.isReadOnly, request.method != .get || !Self.sharedEndpoints.contains(endpoint) {
            throw APIError(.forbidden, "a share token opens the read-only endpoints only")
        }
        context.scope = scope
        if !Self.siteless.contains(endpoint) { context.site = try site(for: request, scope: scope) }
        return try await next(request, context)
    }

    static func endpoint(of path: String) -> String {
        let rest = path.split(separator: "/", omittingEmptySubsequences: true).dropFirst(2)
        return rest.first.map(String.init) ?? ""
    }

    func authenticate(_ request: Request) throws -> SiteAccess.Scope {
        if let key = request.headers[.xDashKey] {
            guard sites.access.isEnabled else { throw APIError(.serviceUnavailable, "usage API disabled: no dash key configured") }
            guard let scope = sites.access.scope(of: key) else { throw APIError(.unauthorized, "missing or wrong X-Dash-Key") }
            return scope
        }
        if let token = request.headers[.xShareToken] ?? request.uri.queryParameters.get("share"), !token.isEmpty {
            guard let site = sites.shareTokens.site(for: token) else { throw APIError(.unauthorized, "unknown or revoked share token") }
            return .share(site)
        }
        guard sites.access.isEnabled else { throw APIError(.serviceUnavailable, "usage API disabled: no dash key configured") }
        throw APIError(.unauthorized, "missing or wrong X-Dash-Key")
    }

    func site(for request: Request, scope: SiteAccess.Scope) throws -> Site {
        if let id = request.uri.queryParameters.get("site"), !id.isEmpty {
            guard let site = sites.site(id) else { throw APIError(.notFound, "unknown site \"\(id)\"") }
            guard scope.reads(id) else { throw APIError(.forbidden, "this key does not read site \"\(id)\"") }
            return site
        }
        let readable = sites.all.filter { scope.reads($0.id) }
        if readable.count == 1 { return readable[0] }
        if let site = sites.defaultSite, scope.reads(site.id) { return site }
        guard !readable.isEmpty else { throw APIError(.notFound, "this key reads no configured site") }
        throw APIError(.badRequest, "this key reads several sites: say which with site= (GET /api/analytics/sites lists them)")
    }
}

/// `GET /api/analytics/sites`: the sites the key (or share token) reads.
struct SitesController: Sendable {
    let sites: Sites

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.get("sites") { _, context in
            let scope = context.scope ?? .sites([])
            return Response.json(JSONWriter.build { w in
                w.field("ok", true)
                w.key("sites")
                w.array { w in
                    for site in sites.all where scope.reads(site.id) {
                        w.object { w in w.field("id", site.id) }
                    }
                }
            })
        }
    }
}

/// `/api/analytics/share`: a site's read-only share tokens, created, listed and revoked with a dash key.
struct ShareController: Sendable {
    let sites: Sites

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.post("share") { _, context in
            let site = try context.requireSite()
            let token = try sites.shareTokens.create(site: site.id, now: sites.now())
            return Response.json(JSONWriter.build { w in
                w.field("ok", true)
                w.field("site", site.id)
                w.field("token", token)
            }, status: .created)
        }
        group.get("share") { _, context in
            let site = try context.requireSite()
            return Response.json(JSONWriter.build { w in
                w.field("ok", true)
                w.key("tokens")
                w.array { w in
                    for e in sites.shareTokens.entries where e.site == site.id {
                        w.object { w in
                            w.field("id", e.id)
                            w.field("site", e.site)
                            w.field("created", Timestamp.secondsString(e.created * 1000))
                        }
                    }
                }
            })
        }
        group.delete("share/:id") { _, context in
            let site = try context.requireSite()
            let id = try context.parameters.decoded("id")
            guard sites.shareTokens.entries.contains(where: { $0.site == site.id && ($0.id == id || $0.digest == ShareTokenStore.hex(ShareTokenStore.digest(id))) }) else {
                throw APIError(.notFound, "no such share token for site \"\(site.id)\"")
            }
            let removed = try sites.shareTokens.revoke(id)
            return Response.json(#"{"ok":true,"revoked":\#(removed)}"#)
        }
    }
}
