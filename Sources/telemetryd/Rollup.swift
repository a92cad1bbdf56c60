import ArgumentParser
import Foundation
import Logging
import Telemetry

struct Rollup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Append the daily rollup to analytics.ndjson from the files (safe while serve runs).", discussion: settingsHelp)

    @OptionGroup var settings: SettingsOptions
    @Option(help: "The rollup's last date, YYYY-MM-DD (default: every due date).") var end: String?
    @Option(help: "period_days of the rollup (default: --rollup-days).") var days: Int?

    func run() throws {
        let config = try settings.configuration()
        let endDate = try end.map { text in
            guard let d = CivilDate(iso: text) else { throw ValidationError("--end must be YYYY-MM-DD, not \"\(text)\"") }
            return d
        }
        if let days, !(1...365).contains(days) { throw ValidationError("--days must be from 1 to 365") }
        let started = Date()
        let lines = try ManualRollup(configuration: config, logger: Logger(label: "telemetryd"),
                                     now: { Int64(Date().timeIntervalSince1970 * 1000) }).run(end: endDate, days: days)
        for line in lines { print(line.text) }
        let ms = Int(Date().timeIntervalSince(started) * 1000)
        FileHandle.standardError.write(Data("rollup: \(lines.count) line(s) written to \(config.dataDirectory)/analytics.ndjson in \(ms) ms\n".utf8))
    }
}
