import HTTPTypes
import Hummingbird

/// Renders every error, the router's own 404 and 413 included, in the contract's JSON form.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as ClickHouseClient.Failure {
            // The answer's source is unreachable or refused the query: the client may retry.
            context.logger.warning("ClickHouse query failed", metadata: ["error": "\(error)"])
            throw APIError(.badGateway, "ClickHouse did not answer the query: \(error.description.prefix(300))", headers: [.retryAfter: "5"])
        } catch let error as HTTPError {
            throw APIError(error.status, Self.sentence(for: error.status, error.body), headers: error.headers)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "internal error")
        }
    }

    static func sentence(for status: HTTPResponse.Status, _ body: String?) -> String {
        switch status {
        case .notFound: "no such endpoint"
        case .methodNotAllowed: "method not allowed"
        case .contentTooLarge: "body exceeds 1 MiB"
        default: body ?? status.reasonPhrase.lowercased()
        }
    }
}
