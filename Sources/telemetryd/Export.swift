import ArgumentParser
import Foundation
import Logging
import Telemetry

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write stored events as NDJSON to stdout, oldest segment first.", discussion: settingsHelp)

    @OptionGroup var settings: SettingsOptions
    @Option(help: "First UTC date (YYYY-MM-DD) of the events to export.") var since: String?
    @Option(help: "Last UTC date (YYYY-MM-DD) of the events to export.") var until: String?

    func run() throws {
        let config = try settings.configuration()
        let from = try since.map { try date($0, "--since") }
        let to = try until.map { try date($0, "--until") }
        let replay = LogReplay(directory: config.dataDirectory, logger: Logger(label: "telemetryd"))
        let files = replay.files()
        let progress = ProgressReporter(label: "export", total: files.reduce(0) { $0 + (FileSystem.size($1) ?? 0) })
        var out = [UInt8]()
        var count = 0
        for file in files {
            let before = count
            try replay.forEachEvent(in: [file]) { event, line in
                let day = CivilDate(epochMilliseconds: event.ts)
                if let from, day < from { return }
                if let to, day > to { return }
                out.append(contentsOf: line)
                out.append(0x0A)
                count += 1
                if out.count > 1 << 20 { flush(&out) }
            }
            progress.advance(by: FileSystem.size(file) ?? 0, items: count - before)
        }
        flush(&out)
        progress.finish("\(count) events")
    }

    private func flush(_ out: inout [UInt8]) {
        FileHandle.standardOutput.write(Data(out))
        out.removeAll(keepingCapacity: true)
    }

    private func date(_ s: String, _ flag: String) throws -> CivilDate {
        guard let d = CivilDate(iso: s) else {
            FileHandle.standardError.write(Data("telemetryd: \(flag) must be YYYY-MM-DD, not \"\(s)\"\n".utf8))
            throw ExitCode(2)
        }
        return d
    }
}
