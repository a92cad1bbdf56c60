import ArgumentParser
import Foundation
import Logging
import Telemetry

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check every segment; exit 1 on damage.", discussion: settingsHelp)

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        let config = try settings.configuration()
        let verifier = LogVerifier(directory: config.dataDirectory)
        let total = LogReplay(directory: config.dataDirectory, logger: Logger(label: "telemetryd")).files()
            .reduce(0) { $0 + (FileSystem.size($1) ?? 0) }
        let progress = ProgressReporter(label: "verify", total: total)
        let report = verifier.run(progress: progress)
        for problem in report.problems { print(problem) }
        progress.finish("\(report.files) files, \(report.lines) lines, \(report.problems.isEmpty ? "ok" : "\(report.problems.count) problems")")
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}
