import ArgumentParser
import Foundation
import Logging
import Telemetry

struct ExportUser: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export-user", abstract: "Write one user's stored events as NDJSON to stdout.", discussion: "USER_ID: the user_id.\n\n" + settingsHelp)

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        let (config, arguments) = try settings.configuration(positionals: ["USER_ID"])
        let userId = arguments[0]
        let lines = try UserEvents(dataDirectory: config.dataDirectory).lines(of: userId)
        FileHandle.standardOutput.write(Data(lines))
        FileHandle.standardError.write(Data("export-user: \(lines.filter { $0 == 0x0A }.count) events\n".utf8))
    }
}

struct DeleteUser: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-user",
        abstract: "Erase one user from raw segments and aggregates (with the daemon stopped; while it runs, use DELETE /api/analytics/users/{id}).", discussion: "USER_ID: the user_id.\n\n" + settingsHelp)

    @OptionGroup var settings: SettingsOptions

    func run() throws {
        let (config, arguments) = try settings.configuration(positionals: ["USER_ID"])
        let userId = arguments[0]
        let logger = Logger(label: "telemetryd")
        guard let lock = try DataDirectoryLock(directory: config.dataDirectory) else {
            FileHandle.standardError.write(Data("telemetryd: serve is running on \(config.dataDirectory); use DELETE /api/analytics/users/{id} instead\n".utf8))
            throw ExitCode(1)
        }
        defer { withExtendedLifetime(lock) {} }
        _ = try LogRecovery(directory: config.dataDirectory, logger: logger).run()
        let store = try AggregateStore(dataDirectory: config.dataDirectory, logger: logger)
        let index = DayIndex(hasher: SipHash(key: try store.hashKey()))
        let files = LogReplay(directory: config.dataDirectory, logger: logger).files()
        let progress = ProgressReporter(label: "delete-user", total: files.reduce(0) { $0 + (FileSystem.size($1) ?? 0) } * 2)
        _ = try IndexLoader(dataDirectory: config.dataDirectory, logger: logger).open(index, store: store, progress: progress)
        // With a ClickHouse sink the erasure is recorded for it: the next `serve` deletes the user's rows there.
        if config.clickhouse.url != nil {
            try ClickHouseCursor(directory: config.dataDirectory, start: index.position)
                .prepareErasure(of: userId, directory: config.dataDirectory, activeSeq: index.position.seq)
        }
        let deleted = try UserEraser(directory: config.dataDirectory, index: index, store: store, maintenance: nil, logger: logger)
            .erase(userId)
        progress.finish("\(deleted) events erased")
        print(#"{"ok":true,"deleted":\#(deleted)}"#)
    }
}
