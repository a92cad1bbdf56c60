import HTTPTypes
import Hummingbird

/// CORS headers of the public endpoint, on every answer (errors included) and on preflight.
struct CORSPolicy: Sendable {
    let origins: [String]

    var allowsAny: Bool { origins.contains("*") }

    func allows(_ origin: String) -> Bool { allowsAny || origins.contains(origin) }

    /// The origins any of `policies` allows: what preflights and error answers name before the site is known.
    init(union policies: [CORSPolicy]) {
        origins = policies.contains(where: \.allowsAny) ? ["*"] : Array(Set(policies.flatMap(\.origins))).sorted()
    }

    init(origins: [String]) {
        self.origins = origins
    }

    func headers(for request: Request) -> HTTPFields {
        var h = HTTPFields()
        if allowsAny {
            h[.accessControlAllowOrigin] = "*"
        } else if let origin = request.headers[.origin], origins.contains(origin) {
            h[.accessControlAllowOrigin] = origin
            h[.vary] = "Origin"
        } else {
            h[.vary] = "Origin"
            return h
        }
        // telemetry.js reads Retry-After to time its retries.
        h[.accessControlExposeHeaders] = "Retry-After"
        return h
    }

    /// The preflight answer; the origin headers are added by `EventCORSMiddleware` like on every answer.
    func preflight(for request: Request) -> Response {
        var h = HTTPFields()
        h[.accessControlAllowMethods] = "POST, OPTIONS"
        h[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? "Content-Type"
        h[.accessControlMaxAge] = "86400"
        return Response(status: .noContent, headers: h)
    }
}

/// Adds the CORS headers to every answer of the routes it wraps, errors included.
struct EventCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: CORSPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let cors = policy.headers(for: request)
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: cors)
            return response
        } catch var error as APIError {
            error.headers.append(contentsOf: cors)
            throw error
        } catch let error as HTTPError {
            var headers = error.headers
            headers.append(contentsOf: cors)
            throw APIError(error.status, ErrorMiddleware<Context>.sentence(for: error.status, error.body), headers: headers)
        }
    }
}
