import Foundation

/// Which address a request counts against for rate limiting: the peer, or, behind a trusted proxy,
/// the nearest untrusted hop of `X-Forwarded-For`.
struct ClientAddress: Sendable {
    let trustedProxies: Set<String>

    func resolve(peer: String?, forwardedFor: String?) -> String {
        let peer = peer ?? "unknown"
        guard trustedProxies.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return hops.reversed().first { !trustedProxies.contains($0) && !$0.isEmpty } ?? peer
    }
}
