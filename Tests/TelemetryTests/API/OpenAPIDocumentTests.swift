import Foundation
import Testing
@testable import Telemetry

@Suite struct OpenAPIDocumentTests {
    /// `METHOD /path` for every operation under `paths:` (two-space path keys, four-space method keys).
    static func documented() -> Set<String> {
        let yaml = String(decoding: StaticFiles().file("openapi.yaml")!.bytes, as: UTF8.self)
        var operations = Set<String>()
        var inPaths = false
        var path = ""
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "delete", "options", "patch"].contains(String(method)) {
                    operations.insert("\(method.uppercased()) \(path)")
                }
            }
        }
        return operations
    }

    @Test func everyRouteIsDescribedAndEveryDescribedOperationIsARoute() throws {
        let dir = TempDirectory()
        let app = try Storage.open(testConfiguration(dir), logger: quietLogger)
        defer { app.close() }
        let routes = Set(buildRouter(sites: Sites(storage: app, logger: quietLogger), alerts: AlertMonitor(now: app.now, logger: quietLogger)).routes.map { route -> String in
            let path = route.path.description
                .replacingOccurrences(of: "**", with: "{path}")
                .split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            return "\(route.method.rawValue) /\(path)"
        })
        let documented = Self.documented()
        #expect(documented.count > 5)
        #expect(routes.subtracting(documented).isEmpty, "undocumented: \(routes.subtracting(documented).sorted())")
        #expect(documented.subtracting(routes).isEmpty, "not routed: \(documented.subtracting(routes).sorted())")
        // The human reference names every path too.
        var docs = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { docs.deleteLastPathComponent() }
        let api = try String(contentsOf: docs.appendingPathComponent("docs/api.md"), encoding: .utf8)
        for route in routes {
            let path = String(route.split(separator: " ")[1]).replacingOccurrences(of: "/{path}", with: "/")
            #expect(api.contains(path), "docs/api.md does not mention \(path)")
        }
    }
}
