import Foundation
import Hummingbird

// raw-append PORT FILE: answers every POST by appending its body to FILE, as the ingest ceiling.
let port = Int(CommandLine.arguments[1]) ?? 8090
let path = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "raw.ndjson"
let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
let router = Router()
router.post("api/analytics/event") { request, _ -> Response in
    var request = request
    let body = try await request.collectBody(upTo: 1 << 20)
    _ = body.withUnsafeReadableBytes { write(fd, $0.baseAddress, $0.count) }
    _ = write(fd, "\n", 1)
    return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
