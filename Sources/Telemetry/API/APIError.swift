import HTTPTypes
import Hummingbird

/// An answer of the contract's error form: `{"ok":false,"error":"<one clear sentence>"}`.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    public var headers: HTTPFields = [:]
    /// Extra fields written after `error` (e.g. the `rejected` list).
    var extra: (@Sendable (inout JSONWriter) -> Void)?

    public init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = JSONWriter.build { w in
            w.field("ok", false)
            w.field("error", message)
            extra?(&w)
        }
        return Response.json(body, status: status, headers: headers)
    }
}

extension Response {
    static func json(_ body: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        var buffer = ByteBuffer()
        buffer.writeString(body)
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }
}
