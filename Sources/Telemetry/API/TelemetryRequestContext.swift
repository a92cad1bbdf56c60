import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage, the peer address (used for rate limiting only), and on
/// keyed routes who is asking (`scope`) and which site they read (`site`), set by `SiteAccessMiddleware`.
public struct TelemetryRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let peerAddress: String?
    var scope: SiteAccess.Scope?
    var site: Site?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { EventDecoder.maxBodyBytes }

    /// The site a keyed request reads; every keyed route but `sites` has one.
    func requireSite() throws -> Site {
        guard let site else { throw APIError(.internalServerError, "no site resolved for this route") }
        return site
    }
}
