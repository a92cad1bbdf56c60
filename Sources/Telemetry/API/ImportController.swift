import Hummingbird
import NIOCore

/// `POST /api/analytics/import`: NDJSON history into a site while the daemon runs, past the rate limiter
/// (docs/import.md). `telemetryd import --url` sends files in parts of at most 16 MiB.
struct ImportController: Sendable {
    static let maxBodyBytes = 16 << 20
    let sessions: ImportSessions

    func addRoutes(to group: RouterGroup<TelemetryRequestContext>) {
        group.post("import") { request, context in
            let site = try context.requireSite()
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: Self.maxBodyBytes)
            } catch {
                throw APIError(.contentTooLarge, "an import part may not exceed 16 MiB; telemetryd import --url splits files")
            }
            let importer = try await sessions.importer(for: site)
            // Parts of one `telemetryd import --url` run share a run id; identical lines are counted across them.
            importer.begin(run: request.headers[.xImportRun] ?? "")
            var pending = EventImporter.Pending()
            var lines: [Range<Int>] = []
            let bytes = Array(body.readableBytesView)
            bytes.withUnsafeBufferPointer { b in SegmentReader.forEachLine(in: b) { line, offset in lines.append(offset..<(offset + line.count)) } }
            if let last = lines.last?.upperBound, last + 1 < bytes.count { lines.append((last + 1)..<bytes.count) }
            if lines.isEmpty, !bytes.isEmpty { lines.append(0..<bytes.count) }
            for range in lines {
                try Task.checkCancellation()
                try await importer.add(Array(bytes[range]), to: &pending)
            }
            try await importer.flush(&pending)
            let s = pending.summary
            return Response.json(#"{"ok":true,"imported":\#(s.imported),"duplicates":\#(s.duplicates),"ignored":\#(s.ignored),"rejected":\#(s.rejected)}"#)
        }
    }
}
