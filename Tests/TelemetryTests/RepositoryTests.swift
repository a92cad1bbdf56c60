import Foundation
import Testing
@testable import Telemetry

/// The repository stands on its own: a clone is all anyone needs.
@Suite struct RepositoryTests {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    static func trackedFiles() throws -> [String] {
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", root.path, "ls-files", "--cached", "--others", "--exclude-standard"]
        let out = Pipe()
        git.standardOutput = out
        try git.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        git.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func noFileReferstoADocumentOutsideTheRepository() throws {
        let files = try Self.trackedFiles()
        #expect(files.count > 50)
        // Spelled in two pieces so that this file does not match itself.
        let forbidden = ["../" + "shared", "SPEC" + " §"]
        var offenders: [String] = []
        for file in files {
            guard let text = try? String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8) else { continue }
            for needle in forbidden where text.contains(needle) { offenders.append("\(file): \(needle)") }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test func theREADMELinksEveryDocsPageAndEveryLinkResolves() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let pages = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs").path).filter { $0.hasSuffix(".md") }
        for page in ["api.md", "metrics.md", "files.md", "configuration.md", "operations.md", "privacy.md"] {
            #expect(pages.contains(page))
            #expect(readme.contains("docs/\(page)"), "README does not link docs/\(page)")
        }
    }
}
