import Foundation
import HearthTestSupport
import Testing

/// Programs talking to Hearth the way people write them: incoming webhooks posted to by curl and
/// Apprise's `json://`, `form://` with a photo and `jsons://` (`Tests/Scripts/webhooks.py`), and a bot written with
/// websocket-client that answers `/ping` (`bot.py`); outgoing webhooks to a receiver that checks
/// their signatures itself (`outgoing_webhooks.py`).
@Suite struct ProgramTests {
    /// Runs `script BINARY DATA PASSWORD` over a data dir with mum and dad; expects OK.
    func run(_ script: String) throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        for name in ["mum", "dad"] {
            #expect(try hearth(["user", "add", name, "--password-file", password, "--data", temp.data]).status == 0)
        }
        let text = try TestScript.run(script, [try HearthBinary.url.path, temp.data, "a long family password"])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        print(text)
    }

    @Test func curlAndAppriseReachTheFamily() throws { try run("webhooks.py") }

    @Test func aBotAnswersPing() throws { try run("bot.py") }

    @Test func outgoingWebhooksAreSignedRetriedAndKeptOffPrivateAddresses() throws {
        try run("outgoing_webhooks.py")
    }
}
