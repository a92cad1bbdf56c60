import ArgumentParser
import Telemetry

/// `telemetryd`: the daemon and its maintenance commands.
@main
struct TelemetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetryd",
        abstract: "Self-hosted product telemetry: durable NDJSON event log and exact usage analytics.",
        version: TelemetryVersion.current,
        subcommands: [Serve.self, Rollup.self, Export.self, ExportUser.self, DeleteUser.self, Verify.self, Share.self, Import.self, ClickHouseCommand.self],
        defaultSubcommand: Serve.self)
}
