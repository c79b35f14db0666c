import Foundation
import HearthTestSupport
import Testing

/// `/metrics` against a real `hearth serve`, parsed by `prometheus_client`
/// (`Tests/Scripts/metrics.py`): every metric docs/ADMIN.md lists, with its type; counters that
/// move with traffic; 403 for an address not allowed without the token.
@Suite struct MetricsTests {
    @Test func prometheusReadsWhatTheDocsSay() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let password = try temp.file("pw", "a long family password")
        for (name, flags) in [("mum", ["--admin"]), ("dad", [])] {
            #expect(
                try hearth(["user", "add", name, "--password-file", password, "--data", temp.data] + flags).status == 0)
        }
        let text = try TestScript.run("metrics.py", [try HearthBinary.url.path, temp.data, "a long family password"])
        #expect(text.hasSuffix("OK\n"), "\(text)")
        print(text)
    }

    /// A bad address in HEARTH_METRICS_ALLOW, or a token file that is missing or too short,
    /// stops `serve` with the reason.
    @Test func badMetricsSettingsAreRefused() throws {
        let temp = try TempDirectory()
        defer { temp.remove() }
        let short = try temp.file("short", "abc")
        for (variable, value, words) in [
            ("HEARTH_METRICS_ALLOW", "127.0.0.1,example.org", "'example.org' is not an IP address"),
            ("HEARTH_METRICS_ALLOW", "10.0.0.0/40", "'10.0.0.0/40' is not an IP address"),
            ("HEARTH_METRICS_TOKEN_FILE", temp.url.appending(path: "missing").path, "cannot read"),
            ("HEARTH_METRICS_TOKEN_FILE", short, "16 characters or more"),
        ] {
            let result = try hearth(["serve", "--data", temp.data, "--port", "0"], environment: [variable: value])
            #expect(result.status != 0 && result.stderr.contains(words), "\(variable)=\(value): \(result.stderr)")
        }
    }
}
