import Foundation
import Hummingbird
import NIOCore

/// `/static/...` and `/dashboard` with ETag, Cache-Control and gzip (docs/api.md).
struct StaticController: Sendable {
    let files: StaticFiles

    func addRoutes(to router: Router<TelemetryRequestContext>) {
        router.get("static/**") { request, context in
            let name = context.parameters.getCatchAll().joined(separator: "/")
            return try serve(name, request, cacheControl: "public, max-age=3600")
        }
        router.get("dashboard") { request, _ in try serve("dashboard.html", request, cacheControl: "no-cache") }
    }

    func serve(_ name: String, _ request: Request, cacheControl: String) throws -> Response {
        guard let file = files.file(name) else { throw APIError(.notFound, "no such file") }
        var headers: HTTPFields = [.eTag: file.etag, .cacheControl: cacheControl, .contentType: file.contentType, .vary: "Accept-Encoding"]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == file.etag }) {
            return Response(status: .notModified, headers: headers)
        }
        let acceptsGzip = request.headers[.acceptEncoding]?.lowercased().contains("gzip") == true
        let body = acceptsGzip && !file.gzipped.isEmpty ? file.gzipped : file.bytes
        if acceptsGzip && !file.gzipped.isEmpty { headers[.contentEncoding] = "gzip" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
