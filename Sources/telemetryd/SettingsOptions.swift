import ArgumentParser
import Foundation
import Telemetry

/// The daemon's settings on the command line: every `--flag value` (or `--flag=value`) left over after a
/// subcommand's own options, read against the one settings table, then the environment and `--config`.
struct SettingsOptions: ParsableArguments {
    @Argument(parsing: .allUnrecognized, help: .hidden) var arguments: [String] = []

    /// Flag values by name, in the order given, and the arguments that are not flags (a user id).
    func parse() throws(ConfigurationError) -> (flags: [String: [String]], positionals: [String]) {
        var flags: [String: [String]] = [:]
        var positionals: [String] = []
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            i += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            let value: String
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else if TelemetryConfiguration.settings.contains(where: { $0.flag == name && $0.isSwitch }),
                i == arguments.count || !["on", "off", "true", "false", "yes", "no", "1", "0"].contains(arguments[i].lowercased())
            {
                value = "on"  // `--keep-bots` alone
            } else {
                guard i < arguments.count else { throw ConfigurationError("--\(name) needs a value") }
                value = arguments[i]
                i += 1
            }
            flags[name, default: []].append(value)
        }
        return (flags, positionals)
    }

    /// The validated configuration, or one clear line on stderr and exit status 2. For a maintenance command
    /// (`perSite`), `--site ID` narrows it to that site's data directory (docs/sites.md); without it, `default`.
    func configuration(perSite: Bool = true) throws -> TelemetryConfiguration {
        try configuration(positionals: [], perSite: perSite).configuration
    }

    /// `--site ID`, when given.
    var site: String? { (try? parse())?.flags["site"]?.last }

    /// The validated configuration (narrowed to `--site`) and the one or more arguments that are not flags (`FILE…`).
    func configuration(files name: String) throws -> (configuration: TelemetryConfiguration, files: [String]) {
        let count = ((try? parse())?.positionals.count) ?? 0
        guard count > 0 else {
            FileHandle.standardError.write(Data("telemetryd: expects \(name)…, given none\n".utf8))
            throw ExitCode(2)
        }
        let (configuration, files) = try configuration(positionals: Array(repeating: name, count: count))
        return (configuration, files)
    }

    /// The validated configuration and the `names.count` arguments that are not flags (e.g. `USER_ID`).
    func configuration(positionals names: [String], perSite: Bool = true) throws -> (configuration: TelemetryConfiguration, positionals: [String]) {
        do {
            var (flags, positionals) = try parse()
            guard positionals.count == names.count else {
                throw ConfigurationError(names.isEmpty ? "unexpected argument \"\(positionals[0])\"" : "expects \(names.joined(separator: " ")), given \(positionals.count) arguments")
            }
            let site = perSite ? flags.removeValue(forKey: "site")?.last : nil
            let configuration = try TelemetryConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment)
            guard perSite else { return (configuration, positionals) }
            let id = site ?? SiteDefinition.defaultID
            guard let definition = configuration.siteDefinitions.first(where: { $0.id == id }) else {
                throw ConfigurationError("--site: unknown site \"\(id)\"" + (configuration.sites.isEmpty ? " (no --sites-file is set)" : ""))
            }
            return (configuration.forSite(definition), positionals)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("telemetryd: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The settings every subcommand takes, for its `--help`.
let settingsHelp = "--site ID: the site of the sites file to work on (maintenance commands; default: default).\n\n"
    + "SETTINGS (flag, environment variable, default; flags win over the environment, which wins over --config):\n"
    + TelemetryConfiguration.helpText
