import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Telemetry

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon (the default).", discussion: settingsHelp)

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let config = try settings.configuration(perSite: false)
        var logger = Logger(label: "telemetryd")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        let app: any ApplicationProtocol
        do {
            app = try buildApplication(config, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("telemetryd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        try await app.runService()
    }
}
