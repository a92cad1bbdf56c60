import ArgumentParser
import Foundation
import Telemetry

/// `telemetryd share create|revoke|list`: read-only share tokens (docs/sites.md). Works beside a running daemon,
/// which sees the change at its next request.
struct Share: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, revoke or list read-only share tokens for a site's dashboard and read endpoints.",
        discussion: "share create SITE   prints a new token (shown once; only its digest is stored)\n"
            + "share revoke TOKEN  revokes a token (or the 12-digit id that list shows)\n"
            + "share list          lists the tokens: id, site, created\n\n" + settingsHelp)

    @Argument(help: "create, revoke or list") var action: String
    @OptionGroup var settings: SettingsOptions

    func run() throws {
        switch action {
        case "create":
            let (config, arguments) = try settings.configuration(positionals: ["SITE"], perSite: false)
            let site = arguments[0]
            guard config.siteDefinitions.contains(where: { $0.id == site }) else { fail("unknown site \"\(site)\"") }
            let token = try ShareTokenStore(dataDirectory: config.dataDirectory)
                .create(site: site, now: Int64(Date().timeIntervalSince1970 * 1000))
            print(token)
        case "revoke":
            let (config, arguments) = try settings.configuration(positionals: ["TOKEN"], perSite: false)
            let removed = try ShareTokenStore(dataDirectory: config.dataDirectory).revoke(arguments[0])
            guard removed > 0 else { fail("no such share token") }
            FileHandle.standardError.write(Data("share: revoked\n".utf8))
        case "list":
            let config = try settings.configuration(perSite: false)
            for e in ShareTokenStore(dataDirectory: config.dataDirectory).entries {
                print("\(e.id)\t\(e.site)\t\(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(e.created))))")
            }
        default:
            throw ValidationError("the action must be create, revoke or list, not \"\(action)\"")
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("telemetryd: \(message)\n".utf8))
        Share.exit(withError: ExitCode(1))
    }
}
