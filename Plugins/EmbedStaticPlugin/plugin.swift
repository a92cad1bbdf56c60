import Foundation
import PackagePlugin

/// Embeds every file under `static/` into the library at build time, so the binary serves them on its own.
@main
struct EmbedStaticPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL.appending(path: "static")
        let names = (FileManager.default.subpaths(atPath: root.path) ?? []).filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: root.appending(path: name).path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && !name.hasPrefix(".")
        }.sorted()
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedStatic.swift")
        return [
            .buildCommand(
                displayName: "Embedding static/ (\(names.count) files)",
                executable: try context.tool(named: "EmbedStatic").url,
                arguments: [output.path, root.path] + names,
                inputFiles: names.map { root.appending(path: $0) },
                outputFiles: [output])
        ]
    }
}
