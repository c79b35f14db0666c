import ArgumentParser
import Foundation
import Histogram
import Logging
import Services

/// `HearthBench rules`: what moderation rules cost per message. Loads 1,000 word rules and 50
/// regex rules (by default) into a real Moderation service over a temporary database, then times
/// the full text check — words, regexes, masks — on 1 KiB messages that match nothing, and on
/// messages that match a mask rule. Then, for each of the regex rules the security review found
/// slow on a backtracking engine, alone, its worst-case message at doubling sizes up to 64 KiB:
/// the cost per KiB shows whether matching is linear. A size that takes longer than
/// `--worst-limit-ms` ends that pattern's series (a backtracking engine never gets far).
struct RulesScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Moderation rule evaluation cost per message (µs), with N word and regex rules."
    )

    @OptionGroup var options: BenchOptions
    @Option(help: "Word rules to load.") var words = 1000
    @Option(help: "Regex rules to load.") var regexes = 50
    @Option(help: "Bytes per message.") var bytes = 1024
    @Option(help: "Messages to time per case.") var messages = 20_000
    @Option(help: "Largest worst-case message, in bytes.") var worstBytes = 65_536
    @Option(help: "A worst-case message slower than this (ms) ends its pattern's series.") var worstLimitMs = 2_000.0

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(
            path: "hearth-bench-rules-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = HearthConfiguration(dataDirectory: directory)
        configuration.moderation.maxRules = words + regexes + 1
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let services = try AppServices(configuration: configuration, logger: logger)
        let texts = (0..<256).map { BenchRules.text(bytes: bytes, seed: $0) }
        let noRules = time(services.moderation, texts)
        print("Loading \(words) word rules and \(regexes) regex rules…")
        for draft in BenchRules.drafts(words: words, regexes: regexes) {
            _ = try await services.moderation.createRule(draft, by: .cli)
        }
        let clean = time(services.moderation, texts)
        // One in every message is a masked word, so the mask path is timed too.
        let dirty = texts.map { $0.dropLast(12) + " badword0007" }
        let masked = time(services.moderation, dirty.map(String.init))
        // A regex fires: the prefilter lets exactly one run.
        let spam = time(services.moderation, texts.map { String($0.dropLast(14)) + " free prize7" })
        // Emoji and accents keep the fast paths; ß makes every regex run (it folds to "ss").
        let emoji = time(services.moderation, texts.map { String($0.dropLast(12)) + " grün 🎉" })
        let eszett = time(services.moderation, texts.map { String($0.dropLast(12)) + " Straße" })
        guard
            words < 8
                || services.moderation.test(body: String(dirty[0]), roomID: nil, contentTypes: []).outcome == "masked"
        else {
            throw ValidationError("the mask rule did not fire: the benchmark is broken")
        }
        print("case                        p50 µs   p99 µs   max µs   msgs/s (one core)")
        var results: [String: Any] = ["words": words, "regexes": regexes, "bytes": bytes]
        let cases = [
            ("no rules", noRules), ("rules, clean message", clean), ("rules, masked word", masked),
            ("rules, regex fires", spam), ("rules, emoji and ü", emoji), ("rules, text with ß", eszett),
        ]
        for (name, stats) in cases {
            print(
                name.padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(
                        format: "%8.1f %8.1f %8.1f %12.0f", stats.p50, stats.p99, stats.max,
                        1e6 / max(stats.mean, 0.001)))
            results[name] = ["p50_us": stats.p50, "p99_us": stats.p99, "max_us": stats.max, "mean_us": stats.mean]
        }
        print("Goal: p99 under 50 µs with the rules loaded.")
        results["worst_case"] = try await worstCases()
        try options.save(results)
    }

    /// Each slow-on-backtracking pattern alone, its worst message from 16 bytes doubling to
    /// `worstBytes`: the fastest of three runs (one for messages over 4 KiB), in µs and µs per KiB.
    func worstCases() async throws -> [String: Any] {
        print("\nWorst cases, each regex rule alone:")
        print("pattern                  bytes       µs    µs/KiB")
        var results: [String: Any] = [:]
        for (pattern, message) in BenchRules.worstCases {
            let directory = FileManager.default.temporaryDirectory.appending(
                path: "hearth-bench-worst-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            var logger = Logger(label: "bench")
            logger.logLevel = .warning
            let services = try AppServices(configuration: HearthConfiguration(dataDirectory: directory), logger: logger)
            _ = try await services.moderation.createRule(
                RuleDraft(kind: "regex", pattern: pattern, action: "flag"), by: .cli)
            var series: [[String: Double]] = []
            var size = 16
            while size <= worstBytes {
                let text = message(size)
                var fastest = Double.infinity
                for _ in 0..<(size > 4096 ? 1 : 3) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let outcome = services.moderation.test(body: text, roomID: nil, contentTypes: []).outcome
                    fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
                    guard outcome == "flagged" || outcome == "delivered" else {
                        throw ValidationError("unexpected outcome \(outcome) for \(pattern)")
                    }
                }
                let perKiB = fastest / (Double(text.utf8.count) / 1024)
                print(
                    pattern.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + String(format: "%8d %10.1f %9.1f", text.utf8.count, fastest, perKiB))
                series.append(["bytes": Double(text.utf8.count), "us": fastest, "us_per_kib": perKiB])
                if fastest > worstLimitMs * 1000 {
                    print("  (over \(Int(worstLimitMs)) ms: the series ends here)")
                    break
                }
                size *= 2
            }
            results[pattern] = series
        }
        print("Goal: linear (µs/KiB flat as the message grows), under 1 ms per 64 KiB message.")
        return results
    }

    struct Timing {
        let p50: Double
        let p99: Double
        let max: Double
        let mean: Double
    }

    func time(_ moderation: Moderation, _ texts: [String]) -> Timing {
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        var total: UInt64 = 0
        for index in 0..<messages {
            let text = texts[index % texts.count]
            let start = DispatchTime.now().uptimeNanoseconds
            _ = moderation.test(body: text, roomID: 1, contentTypes: [])
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            total += elapsed
            _ = histogram.record(elapsed)
        }
        return Timing(
            p50: Double(histogram.valueAtPercentile(50)) / 1000, p99: Double(histogram.valueAtPercentile(99)) / 1000,
            max: Double(histogram.max) / 1000, mean: Double(total) / Double(messages) / 1000)
    }
}

/// The rule set and message text the moderation benchmarks share.
enum BenchRules {
    /// `words` word rules (`badword0000`…, one in ten a two-word phrase; the first ten mask, the
    /// rest block) and `regexes` regex rules shaped like real spam patterns.
    static func drafts(words: Int, regexes: Int) -> [RuleDraft] {
        var drafts: [RuleDraft] = []
        for index in 0..<words {
            let pattern = index % 10 == 9 ? "bad phrase\(index)" : String(format: "badword%04d", index)
            drafts.append(RuleDraft(kind: "word", pattern: pattern, action: index < 10 ? "mask" : "block"))
        }
        for index in 0..<regexes {
            drafts.append(
                RuleDraft(kind: "regex", pattern: "\\b(?:free|cheap)\\s+prize\(index)\\d*\\b", action: "flag"))
        }
        return drafts
    }

    /// The regex rules the security review found cubic or exponential on a backtracking engine,
    /// each with its worst-case message of about `bytes` bytes.
    static let worstCases: [(String, @Sendable (Int) -> String)] = [
        ("free.*money.*now", { String(String(repeating: "free money ", count: $0 / 11 + 1).prefix($0)) }),
        (#"\w*\w*\w*\w*\w*!"#, { String(repeating: "a", count: $0) }),
        (#"(\w\w?)+$"#, { String(repeating: "a", count: $0 - 1) + "!" }),
        ("(a?a)+$", { String(repeating: "a", count: $0 - 1) + "b" }),
        (#"(\d\d?)+x"#, { String(repeating: "1", count: $0) }),
        (".*a.*b.*c.*z", { String(String(repeating: "abc", count: $0 / 3 + 1).prefix($0)) }),
    ]

    static let vocabulary =
        "the of and to in is you that it he was for on are as with his they at be this from have or by one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know"
        .split(separator: " ")

    /// About `bytes` of everyday English words, different for each seed, matching no rule.
    static func text(bytes: Int, seed: Int) -> String {
        var generator = seed &* 2_654_435_761 &+ 1
        var out = ""
        while out.utf8.count < bytes {
            generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            out += vocabulary[Int(UInt(bitPattern: generator) >> 33) % vocabulary.count] + " "
        }
        return String(out.prefix(bytes))
    }
}
