import Foundation
import Testing

@testable import Web

/// The service worker the server serves: its version follows every file of the build, and its
/// shell is what the chat page needs to start.
@Suite struct AssetsTests {
    static func embedded(_ files: [String: String]) -> [String: String] {
        files.mapValues { Data($0.utf8).base64EncodedString() }
    }

    static func worker(_ assets: Assets) -> String {
        String(buffer: assets.files["sw.js"]!.bytes)
    }

    @Test func theWorkersVersionChangesWithAnyFileAndItsShellIsTheChatPage() throws {
        let worker = "const VERSION = '__VERSION__';\nconst SHELL = ['__SHELL__'];\n"
        let files = [
            "sw.js": worker, "index.html": "<html>", "app.js": "1", "style.css": "a{}", "admin.css": "b{}",
            "setup.js": "s", "setup.html": "<html>", "icon-192.png": "png", "manifest.webmanifest": "{}",
        ]
        let first = Self.worker(Assets(embedded: Self.embedded(files)))
        #expect(!first.contains("__VERSION__"))
        #expect(
            first.contains(
                "const SHELL = ['/', '/app.js', '/icon-192.png', '/manifest.webmanifest', '/style.css'];"),
            "\(first)")
        var changed = files
        changed["app.js"] = "2"
        let second = Self.worker(Assets(embedded: Self.embedded(changed)))
        #expect(first != second)
        // The real build's worker is filled in too, and lists the real page's modules.
        let real = Self.worker(Assets())
        #expect(!real.contains("__SHELL__") && real.contains("'/chat.js'") && !real.contains("'/sw.js'"))
    }
}
