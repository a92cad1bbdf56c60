import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Telemetry

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon (the default).")

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let config = try settings.configuration()
        let logger = {
            var logger = Logger(label: "telemetryd")
            logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
            return logger
        }()
        let lock: DataDirectoryLock?
        do {
            lock = try DataDirectoryLock(directory: config.dataDirectory)
        } catch {
            FileHandle.standardError.write(Data("telemetryd: cannot open data directory \(config.dataDirectory): \(error)\n".utf8))
            throw ExitCode(2)
        }
        guard let lock else {
            FileHandle.standardError.write(Data("telemetryd: another telemetryd serve is using \(config.dataDirectory)\n".utf8))
            throw ExitCode(2)
        }
        defer { withExtendedLifetime(lock) {} }
        let app: TelemetryApp
        do {
            app = try TelemetryApp(configuration: config, logger: logger, onFatal: { error in
                // The log's state is unknown after a failed fsync: exit so systemd restarts us and recovery runs.
                logger.critical("stopping: the event log failed", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.2)
                Foundation.exit(70)
            })
        } catch {
            FileHandle.standardError.write(Data("telemetryd: cannot open data directory \(config.dataDirectory): \(error)\n".utf8))
            throw ExitCode(2)
        }
        try await app.makeApplication(onServerRunning: { port in
            logger.info("listening", metadata: ["host": "\(config.host)", "port": "\(port)", "data_dir": "\(config.dataDirectory)"])
        }).runService()
    }
}
