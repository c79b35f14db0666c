import Foundation
import HearthTestSupport
import Testing

/// The package manifest itself.
@Suite struct PackageTests {
    /// Every module a target imports is declared in Package.swift, so no target builds only
    /// because another one happened to pull a module in first.
    @Test func everyImportIsDeclared() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../..")
            .standardizedFileURL
        let text = try TestScript.run("package_imports.py", [root.path])
        #expect(text.contains("is declared"), "\(text)")
    }
}
