import Foundation
import PackagePlugin

/// Embeds a top-level folder of the package into a target as generated Swift source.
///
/// `Storage` gets `Migrations/` as `EmbeddedMigrations`, `Web` gets `Public/` as `EmbeddedAssets`.
/// Every file of the folder is an input of the build command, so editing, adding or removing a
/// file regenerates the source on the next build: the binary can never carry a stale copy.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folders = ["Storage": ("Migrations", "EmbeddedMigrations"), "Web": ("Public", "EmbeddedAssets")]
        guard let (folder, typeName) = folders[target.name] else {
            Diagnostics.error("EmbedFiles has no folder configured for target \(target.name)")
            return []
        }
        let input = context.package.directoryURL.appending(path: folder)
        let output = context.pluginWorkDirectoryURL.appending(path: "\(typeName).swift")
        var files: [URL] = []
        if let walker = FileManager.default.enumerator(at: input, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker
            where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                files.append(url)
            }
        }
        return [
            .buildCommand(
                displayName: "Embedding \(folder)/ into \(target.name)",
                executable: try context.tool(named: "EmbedTool").url,
                arguments: [typeName, input.path, output.path],
                inputFiles: files,
                outputFiles: [output]
            )
        ]
    }
}
