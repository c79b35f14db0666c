import Foundation
import PackagePlugin

/// Embeds a top-level folder of the package into a target as generated Swift source.
///
/// `Storage` gets `Migrations/` as `EmbeddedMigrations`; `Web` gets `Public/` as `EmbeddedAssets`
/// and `Templates/` (the admin panel's Mustache templates, never served as files) as
/// `EmbeddedTemplates`.
///
/// The binary can never carry a stale copy: every file of the folder is an input of the build
/// command, so editing one regenerates the source; and each target holds an excluded symlink to
/// its folder (`Sources/Web/Public`, `Sources/Web/Templates`, `Sources/Storage/Migrations`), so adding or removing a file
/// changes the target's directory structure, which makes SwiftPM plan again and rerun this plugin
/// with the new list of files.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folders = [
            "Storage": [("Migrations", "EmbeddedMigrations")],
            "Web": [("Public", "EmbeddedAssets"), ("Templates", "EmbeddedTemplates")],
        ]
        guard let embeds = folders[target.name] else {
            Diagnostics.error("EmbedFiles has no folder configured for target \(target.name)")
            return []
        }
        let package = context.package.directoryURL
        let script = package.appending(path: "Plugins/EmbedFiles/embed.sh")
        return embeds.map { folder, typeName in
            let input = package.appending(path: folder)
            let output = context.pluginWorkDirectoryURL.appending(path: "\(typeName).swift")
            var files: [URL] = [script]
            if let walker = FileManager.default.enumerator(
                at: input, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
            {
                for case let url as URL in walker
                where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                    files.append(url)
                }
            }
            return .buildCommand(
                displayName: "Embedding \(folder) into \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, typeName, input.path, output.path],
                inputFiles: files,
                outputFiles: [output]
            )
        }
    }
}
