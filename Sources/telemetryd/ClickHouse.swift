import ArgumentParser
import Foundation
import Logging
import Telemetry

/// `telemetryd clickhouse backfill|schema` (docs/clickhouse.md).
struct ClickHouseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clickhouse",
        abstract: "Ship a site's stored events to ClickHouse, or print the statements telemetryd runs there.",
        discussion: "backfill    ships the whole log of a stopped daemon's site (--site) through\n"
            + "            its cursor; serve with the same settings goes on from there\n"
            + "schema [V]  prints the CREATE TABLE run on a server of major version V (26)\n"
            + "sql         prints the table and every query of --query-source clickhouse\n\n" + settingsHelp)

    @Argument(help: "backfill, schema or sql") var action: String
    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        switch action {
        case "backfill":
            let config = try settings.configuration()
            guard config.clickhouse.url != nil else { throw ValidationError("backfill needs --clickhouse-url") }
            let logger = Logger(label: "telemetryd")
            guard let lock = try DataDirectoryLock(directory: config.dataDirectory) else {
                FileHandle.standardError.write(Data("telemetryd: serve is running on \(config.dataDirectory); stop it first (it ships new events itself)\n".utf8))
                throw ExitCode(1)
            }
            defer { withExtendedLifetime(lock) {} }
            _ = try LogRecovery(directory: config.dataDirectory, logger: logger).run()
            let site = settings.site ?? "default"
            do {
                let shipped = try await ClickHouseSink.backfill(
                    site: site, directory: config.dataDirectory, settings: config.clickhouse, logger: logger)
                print("shipped \(shipped) events of site \(site) to \(config.clickhouse.database).\(config.clickhouse.table)")
            } catch {
                FileHandle.standardError.write(Data("telemetryd: backfill stopped: \(error)\n".utf8))
                throw ExitCode(1)
            }
        case "schema":
            let given = (try? settings.parse())?.positionals.count ?? 0
            let (config, arguments) = try settings.configuration(positionals: given > 1 ? ["V"] : Array(repeating: "V", count: given), perSite: false)
            let major = try arguments.first.map { text in
                guard let n = Int(text), n > 0 else { throw ValidationError("the version must be a number like 18 or 26") }
                return n
            } ?? 26
            print(ClickHouseStatements.schema(config.clickhouse, major: major) + ";")
        case "sql":
            let config = try settings.configuration(perSite: false)
            print(ClickHouseStatements.listing(config.clickhouse), terminator: "")
        default:
            throw ValidationError("the action must be backfill, schema or sql, not \"\(action)\"")
        }
    }
}
