import Foundation
import HearthTestSupport
import Testing

/// The server killed with SIGKILL, ten times, while clients send: nothing acked is lost or doubled.
@Suite struct CrashTests {
    @Test func killNineTenTimesLosesNothingAcked() async throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        let users = ["mum", "dad", "kid", "gran"]
        for name in users {
            #expect(try hearth(["user", "add", name, "--password-file", password, "--data", temp.data]).status == 0)
        }
        let text = try TestScript.run(
            "crash_durability.py",
            [try HearthBinary.url.path, temp.data, "0", "a long family password"] + users)
        #expect(text.hasSuffix("OK\n"), "\(text)")
        print(text)
    }
}
