import Foundation
import HearthTestSupport
import Testing

/// Web Push from a real `hearth serve` to a push service on loopback that checks each push as
/// a real one would (`Tests/Scripts/web_push.py`), and the key's commands.
@Suite struct PushTests {
    @Test func pushesReachALocalPushServiceAndSurviveARestart() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        for name in ["mum", "dad"] {
            #expect(try hearth(["user", "add", name, "--password-file", password, "--data", temp.data]).status == 0)
        }
        let text = try TestScript.run(
            "web_push.py", [try HearthBinary.url.path, temp.data, "a long family password"])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        print(text)
    }

    @Test func rotatingTheKeyDropsTheSubscriptionsMadeForIt() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let first = try hearth(["push", "key", "--data", temp.data])
        #expect(first.status == 0)
        let key = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.count == 87 && key.hasPrefix("B"), "\(key)")
        // The same key until it is rotated.
        #expect(try hearth(["push", "key", "--data", temp.data]).stdout.contains(key))
        let rotated = try hearth(["push", "rotate-keys", "--data", temp.data])
        #expect(rotated.status == 0)
        #expect(rotated.stdout.contains("0 subscriptions dropped"), "\(rotated.stdout)")
        #expect(!rotated.stdout.contains(key))
    }
}
