import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Telemetry

/// `telemetryd import FILE…`: history into a site, straight into the data directory with the daemon stopped,
/// or through a running daemon with `--url` (docs/import.md).
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import NDJSON or NDJSON.gz history (telemetryd's export, or EchoPilot's analytics_events.ndjson) into a site.",
        discussion: "FILE…: the files to import, in order.\n"
            + "--url http://host:port: import through a running daemon (with --dash-key) instead of the data directory.\n"
            + "Prints one summary line: imported N, duplicates D, ignored I, rejected R.\n\n" + settingsHelp)

    @Option(help: "Import through the daemon running at this URL (needs --dash-key).") var url: String?
    @OptionGroup var settings: SettingsOptions

    /// The bytes sent per request with `--url`.
    static let partBytes = 8 << 20

    func run() throws {
        let (config, files) = try settings.configuration(files: "FILE")
        let siteID = settings.site ?? SiteDefinition.defaultID
        let total = files.reduce(0) { $0 + (FileSystem.size($1) ?? 0) }
        for file in files where !FileSystem.exists(file) { fail("cannot read \(file)", code: 2) }
        let progress = ProgressReporter(label: "import", total: total)
        let summary: EventImporter.Summary
        if let url {
            guard let key = config.dashKeys.first else { fail("--url needs --dash-key (or TELEMETRY_DASH_KEYS)", code: 2) }
            summary = try remote(url: url, key: key, site: siteID, files: files, progress: progress)
        } else {
            summary = try local(config, files: files, progress: progress)
        }
        progress.finish(summary.line)
        print(summary.line)
    }

    /// Straight into the data directory, through the same writer and index as `serve`.
    private func local(_ config: TelemetryConfiguration, files: [String], progress: ProgressReporter) throws -> EventImporter.Summary {
        let logger = Logger(label: "telemetryd", factory: { _ in SwiftLogNoOpLogHandler() })
        let storage: Storage
        do {
            storage = try Storage.open(config, logger: logger)
        } catch {
            fail("\(error); while serve runs, import through it with --url http://HOST:PORT --dash-key KEY", code: 1)
        }
        defer { storage.close() }
        let importer = try EventImporter(storage: storage)
        let state = ImportState()
        for file in files {
            var lines: [[UInt8]] = []
            func drain() throws {
                let batch = lines
                lines.removeAll(keepingCapacity: true)
                try blocking {
                    var pending = state.pending
                    for line in batch { try await importer.add(line, to: &pending) }
                    state.pending = pending
                }
            }
            try SegmentReader.forEachLine(path: file, { line, _ in
                lines.append(Array(line))
                progress.advance(by: line.count + 1, items: 1)
                if lines.count == 10_000 { try drain() }
            }, torn: { _, _ in })
            // A last line without a newline is still a line of an export file.
            if let tail = try lastLineWithoutNewline(file) { lines.append(tail) }
            try drain()
        }
        try blocking {
            var pending = state.pending
            try await importer.flush(&pending)
            state.pending = pending
        }
        return state.pending.summary
    }

    /// Through `POST /api/analytics/import` of a running daemon, in parts of at most 8 MiB.
    private func remote(url: String, key: String, site: String, files: [String], progress: ProgressReporter) throws -> EventImporter.Summary {
        guard let endpoint = URL(string: url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/analytics/import?site=\(site)") else {
            fail("--url must be a URL such as http://127.0.0.1:8080", code: 2)
        }
        var summary = EventImporter.Summary()
        var part: [UInt8] = []
        let run = UUID().uuidString
        func send() throws {
            guard !part.isEmpty else { return }
            var request = URLRequest(url: endpoint)
            request.httpMethod = "POST"
            request.setValue(key, forHTTPHeaderField: "X-Dash-Key")
            request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
            request.setValue(run, forHTTPHeaderField: "X-Import-Run")
            request.setValue("telemetryd-import/\(TelemetryVersion.current)", forHTTPHeaderField: "User-Agent")
            request.httpBody = Data(part)
            request.timeoutInterval = 600
            part.removeAll(keepingCapacity: true)
            let answer = try post(request)
            guard answer.status == 200, let json = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else {
                fail("the daemon answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self))", code: 1)
            }
            summary = summary + EventImporter.Summary(
                imported: json["imported"] as? Int ?? 0, duplicates: json["duplicates"] as? Int ?? 0,
                ignored: json["ignored"] as? Int ?? 0, rejected: json["rejected"] as? Int ?? 0)
        }
        for file in files {
            try SegmentReader.forEachLine(path: file, { line, _ in
                if part.count + line.count + 1 > Self.partBytes { try send() }
                part += line
                part.append(0x0A)
                progress.advance(by: line.count + 1, items: 1)
            }, torn: { _, _ in })
            if let tail = try lastLineWithoutNewline(file) {
                part += tail
                part.append(0x0A)
            }
        }
        try send()
        return summary
    }

    private func lastLineWithoutNewline(_ path: String) throws -> [UInt8]? {
        var tail: [UInt8]?
        try SegmentReader.forEachLine(path: path, { _, _ in }, torn: { _, _ in tail = [] })
        guard tail != nil else { return nil }
        var bytes: [UInt8] = []
        if path.hasSuffix(".gz") {
            try Gzip.decompressFile(path) { bytes += $0 }
        } else {
            bytes = try FileSystem.readAll(path)
        }
        guard let newline = bytes.lastIndex(of: 0x0A) else { return bytes }
        return Array(bytes[(newline + 1)...])
    }

    private func post(_ request: URLRequest) throws -> (status: Int, body: Data) {
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            result.value = error.map { .failure($0) } ?? .success(((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
            done.signal()
        }.resume()
        done.wait()
        switch result.value {
        case .success(let answer): return answer
        case .failure(let error): fail("cannot reach \(request.url?.absoluteString ?? ""): \(error.localizedDescription)", code: 1)
        case nil: fail("no answer", code: 1)
        }
    }

    private func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("telemetryd: \(message)\n".utf8))
        Import.exit(withError: ExitCode(code))
    }
}

/// The batch being gathered, carried between the blocking steps of a local import.
private final class ImportState: @unchecked Sendable {
    var pending = EventImporter.Pending()
}

private final class ResultBox: @unchecked Sendable {
    var value: Result<(Int, Data), any Error>?
}

/// Runs async work to completion from the command's (non-cooperative) main thread.
private func blocking(_ body: @escaping @Sendable () async throws -> Void) throws {
    let done = DispatchSemaphore(value: 0)
    let failure = ResultBox()
    Task {
        do { try await body() } catch { failure.value = .failure(error) }
        done.signal()
    }
    done.wait()
    if case .failure(let error) = failure.value { throw error }
}
