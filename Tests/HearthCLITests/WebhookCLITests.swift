import Foundation
import HearthTestSupport
import Testing

/// Incoming webhooks posted to by the real clients (`Tests/Scripts/webhooks.py`): curl, and
/// Apprise's `json://` and `jsons://` (against `serve --tls-cert`).
@Suite struct WebhookCLITests {
    @Test func curlAndAppriseReachTheFamily() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        for name in ["mum", "dad"] {
            #expect(try hearth(["user", "add", name, "--password-file", password, "--data", temp.data]).status == 0)
        }
        let text = try TestScript.run("webhooks.py", [try HearthBinary.url.path, temp.data, "a long family password"])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        print(text)
    }
}
