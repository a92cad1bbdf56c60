import Crypto
import Hummingbird

/// Checks `X-Dash-Key` by comparing SHA-256 digests in constant time against every configured key.
public struct DashKeyAuth: Sendable {
    let digests: [[UInt8]]

    public init(keys: [String]) {
        digests = keys.map { Array(SHA256.hash(data: Array($0.utf8))) }
    }

    public var isEnabled: Bool { !digests.isEmpty }

    /// True when `presented` matches a key; the time taken does not depend on where a near-miss differs.
    public func accepts(_ presented: String) -> Bool {
        let digest = Array(SHA256.hash(data: Array(presented.utf8)))
        var matched = false
        for key in digests {
            var diff: UInt8 = 0
            for i in 0..<key.count { diff |= key[i] ^ digest[i] }
            matched = matched || diff == 0
        }
        return matched
    }

    func check(_ request: Request) throws {
        guard isEnabled else { throw APIError(.serviceUnavailable, "usage API disabled: no dash key configured") }
        guard let key = request.headers[.xDashKey], accepts(key) else {
            throw APIError(.unauthorized, "missing or wrong X-Dash-Key")
        }
    }
}

/// Rejects requests without a valid dash key before they reach the keyed routes.
struct DashKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let auth: DashKeyAuth

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try auth.check(request)
        return try await next(request, context)
    }
}
