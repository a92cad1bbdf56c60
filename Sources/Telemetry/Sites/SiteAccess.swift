/// Which sites a presented dash key reads: the `--dash-key` keys read every site (admin), a site's `dash_keys`
/// read that site only. Every comparison is of SHA-256 digests in constant time (`DashKeyAuth`).
struct SiteAccess: Sendable {
    enum Scope: Sendable, Equatable {
        /// An admin key: every site.
        case admin
        /// A site key (one key may be listed by several sites): everything of those sites, erasure, import and
        /// share tokens included.
        case sites(Set<String>)
        /// A share token: the read-only endpoints of one site.
        case share(String)

        func reads(_ site: String) -> Bool {
            switch self {
            case .admin: true
            case .sites(let ids): ids.contains(site)
            case .share(let id): id == site
            }
        }

        var isReadOnly: Bool { if case .share = self { true } else { false } }
    }

    let admin: DashKeyAuth
    let siteKeys: [(site: String, auth: DashKeyAuth)]

    init(adminKeys: [String], sites: [SiteDefinition]) {
        admin = DashKeyAuth(keys: adminKeys)
        siteKeys = sites.filter { !$0.dashKeys.isEmpty }.map { ($0.id, DashKeyAuth(keys: $0.dashKeys)) }
    }

    /// False when no key at all is configured: the keyed API is then disabled (503).
    var isEnabled: Bool { admin.isEnabled || !siteKeys.isEmpty }

    /// The scope of `key`, or nil when it matches none. Every site's keys are compared, matched or not.
    func scope(of key: String) -> Scope? {
        let isAdmin = admin.accepts(key)
        var ids = Set<String>()
        for (site, auth) in siteKeys where auth.accepts(key) { ids.insert(site) }
        if isAdmin { return .admin }
        return ids.isEmpty ? nil : .sites(ids)
    }
}
