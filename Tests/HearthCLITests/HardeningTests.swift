import Foundation
import HearthTestSupport
import Testing

/// The security review's findings, each replayed as an attacker would against a real
/// `hearth serve` (`Tests/Scripts/attacks.py`): every one gets a clear refusal and changes
/// nothing else. Each attack starts and stops its own server.
@Suite struct HardeningTests {
    func attack(_ finding: String) throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let text = try TestScript.run("attacks.py", [try HearthBinary.url.path, temp.data, finding])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        print(text)
    }

    /// Six regex rules a backtracking engine takes cubic or exponential time on, each sent its
    /// worst-case 64 KiB message: `/healthz` and another user's sends are answered throughout.
    @Test func regexRulesCannotFreezeTheServer() throws { try attack("regex") }

    /// 40 simultaneous wrong sign-ins (API and admin panel) and 40 registrations from one address.
    @Test func throttlesHoldUnderConcurrency() throws { try attack("throttle") }

    /// Setup, invite, device-link, recovery and reset codes served with the log at trace level.
    @Test func noSecretCodeReachesTheLog() throws { try attack("log") }

    /// 8 parallel 600 KB uploads against a 1 MB quota.
    @Test func parallelUploadsStayWithinTheQuota() throws { try attack("quota") }

    /// One token opening socket after socket; one user's devices together.
    @Test func oneTokenCannotTakeEverySocket() throws { try attack("sockets") }

    /// A newer reset link, or `hearth user reset-password`, ends the older links.
    @Test func aPasswordChangeEndsOlderResetLinks() throws { try attack("reset") }

    /// Nine unapproved link claims do not use up the device cap.
    @Test func pendingDevicesDoNotCountTowardTheCap() throws { try attack("pending") }

    /// HSTS under an https:// public URL, a frame over the limit (1009, not a reset), the id of
    /// a refused send, invite codes at rest.
    @Test func theSmallerFindings() throws { try attack("small") }
}
