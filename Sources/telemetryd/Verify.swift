import ArgumentParser
import Foundation
import Telemetry

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check every segment; exit 1 on damage.")

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        let config = try settings.configuration()
        let report = LogVerifier(directory: config.dataDirectory).run()
        for problem in report.problems { print(problem) }
        print("verified \(report.files) files, \(report.lines) lines: \(report.problems.isEmpty ? "ok" : "\(report.problems.count) problems")")
        if !report.problems.isEmpty { throw ExitCode(1) }
    }
}
