import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the peer address, used for rate limiting only.
public struct TelemetryRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.peerAddress = source.channel.remoteAddress?.ipAddress
    }

    public var maxUploadSize: Int { EventDecoder.maxBodyBytes }
}
