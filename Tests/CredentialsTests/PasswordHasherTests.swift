import Foundation
import Testing

@testable import Credentials

@Suite struct PasswordHasherTests {
    /// Cheap parameters so the suite stays fast; the defaults are exercised once below.
    static let cheap = Argon2Parameters(memoryKiB: 1024, iterations: 1, parallelism: 1)

    @Test func hashesAtTheDefaultsIntoAPHCString() async throws {
        let hasher = try PasswordHasher()
        let hash = try await hasher.hash("correct horse battery staple")
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(Argon2Parameters(phc: hash) == .default)
        #expect(try await hasher.verify("correct horse battery staple", against: hash) == .valid(needsRehash: false))
        #expect(try await hasher.verify("correct horse battery stapler", against: hash) == .invalid)
    }

    @Test func reportsARehashWhenTheParametersChanged() async throws {
        let old = try PasswordHasher(configuration: .init(parameters: Self.cheap))
        let hash = try await old.hash("a long enough password")
        let new = try PasswordHasher(
            configuration: .init(parameters: Argon2Parameters(memoryKiB: 2048, iterations: 1, parallelism: 1)))
        #expect(try await new.verify("a long enough password", against: hash) == .valid(needsRehash: true))
    }

    @Test func refusesStoredHashesAboveTheCeilingOrNotArgon2id() async throws {
        let hasher = try PasswordHasher(configuration: .init(parameters: Self.cheap))
        let huge = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
        await #expect(throws: PasswordHasherError.unsupportedHash) {
            try await hasher.verify("whatever", against: huge)
        }
        await #expect(throws: PasswordHasherError.unsupportedHash) {
            try await hasher.verify("whatever", against: "$2b$12$abcdefghijklmnopqrstuv")
        }
        #expect(Argon2Parameters(phc: "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA") == nil)
        #expect(Argon2Parameters(phc: "$argon2id$v=19$m=1024,t=1$c2FsdA$aGFzaA") == nil)
    }

    @Test func refusesParametersAboveTheCeilingAtStart() {
        #expect(throws: PasswordHasherError.self) {
            try PasswordHasher(
                configuration: .init(parameters: Argon2Parameters(memoryKiB: 1 << 22, iterations: 2, parallelism: 1)))
        }
    }

    @Test func shedsWithBusyWhenTheQueueIsFull() async throws {
        // One thread, one waiting slot, slow hashes: of many at once, most must be refused at once.
        let hasher = try PasswordHasher(
            configuration: .init(
                parameters: Argon2Parameters(memoryKiB: 8192, iterations: 8, parallelism: 1), threads: 1,
                queueLimit: 1))
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<12 {
                group.addTask {
                    do {
                        _ = try await hasher.hash("password number \(index)")
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        let done = outcomes.filter { $0 }.count
        #expect(done >= 1)
        #expect(done < 12)
        // Once the queue drains, hashing works again.
        _ = try await hasher.hash("after the flood")
    }

    @Test func saysItIsBusyExactlyWhileNoHashCouldBeQueued() async throws {
        // One thread, one waiting slot: a job holds the thread until released, a second waits.
        let hasher = try PasswordHasher(configuration: .init(parameters: Self.cheap, threads: 1, queueLimit: 1))
        let started = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        async let running: Void = hasher.queue.run {
            started.signal()
            release.wait()
        }
        started.wait()
        #expect(!hasher.isBusy)
        async let waiting: Void = hasher.queue.run {}
        var polls = 0
        while !hasher.isBusy && polls < 5000 {
            try await Task.sleep(for: .milliseconds(1))
            polls += 1
        }
        #expect(hasher.isBusy)
        await #expect(throws: PasswordHasherError.busy) { try await hasher.hash("one too many") }
        release.signal()
        _ = try await (running, waiting)
        #expect(!hasher.isBusy)
    }

    @Test func dummyVerificationDoesTheSameWorkAsARealOne() async throws {
        // An unknown username must cost what a wrong password costs: the dummy is a real hash
        // at the current parameters, and every later call verifies against it.
        let hasher = try PasswordHasher(configuration: .init(parameters: Self.cheap))
        try await hasher.verifyDummy("first call")
        let dummy = try #require(hasher.dummyHash.withLock { $0 })
        #expect(Argon2Parameters(phc: dummy) == Self.cheap)
        try await hasher.verifyDummy("second call")
        #expect(hasher.dummyHash.withLock { $0 } == dummy)
    }

    #if os(Linux)
    @Test(.enabled(if: HashingPriority.mayLeaveIdle)) func hashesOnlyWhenNothingElseWantsTheCore() async throws {
        // The hashing threads are in SCHED_IDLE (policy 5), so sign-ins never delay message delivery.
        let hasher = try PasswordHasher(configuration: .init(parameters: Self.cheap, threads: 2))
        async let first = hasher.queue.run { sched_getscheduler(0) }
        async let second = hasher.queue.run { sched_getscheduler(0) }
        #expect(try await [first, second] == [5, 5])
    }

    @Test func namesItsThreadsForTheSystemsTools() async throws {
        // `top -H` and /proc show which threads hash, so an operator can tell them from the relay.
        let hasher = try PasswordHasher(configuration: .init(parameters: Self.cheap, threads: 2))
        var expected: Set = ["argon2-hash-0", "argon2-hash-1"]
        if HashingPriority.mayLeaveIdle { expected.insert("argon2-watchdog") }
        let deadline = ContinuousClock.now + .seconds(10)
        var names = Self.threadNames()
        while !expected.isSubset(of: names) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            names = Self.threadNames()
        }
        withExtendedLifetime(hasher) { #expect(expected.isSubset(of: names)) }
    }

    /// The kernel's names of this process's threads.
    static func threadNames() -> Set<String> {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return Set(
            tasks.compactMap {
                try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)
                    .trimmingCharacters(in: .newlines)
            })
    }

    @Test func hashesIdleOnlyWhereAStarvedHashCouldBeRaisedAgain() {
        let root = "Name:\thearth\nCapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\n"
        let unprivileged = "Name:\thearth\nCapEff:\t0000000000000000\n"
        #expect(HashingPriority.mayLeaveIdle(status: root, niceLimit: 0))
        #expect(!HashingPriority.mayLeaveIdle(status: unprivileged, niceLimit: 0))
        #expect(HashingPriority.mayLeaveIdle(status: unprivileged, niceLimit: 20))
        #expect(!HashingPriority.mayLeaveIdle(status: unprivileged, niceLimit: 19))
        #expect(!HashingPriority.mayLeaveIdle(status: "", niceLimit: 0))
    }

    @Test(.enabled(if: HashingPriority.mayLeaveIdle)) func aStarvedHashIsRaisedToNice10UntilItEnds() async throws {
        // A job that outlasts the starvation limit stands in for a hash that other busy programs
        // keep from running; the watchdog raises its thread, and the next job runs idle again.
        let hasher = try PasswordHasher(configuration: .init(parameters: Self.cheap, threads: 1))
        let (policy, nice) = try await hasher.queue.run { () -> (Int32, Int32) in
            let deadline = ContinuousClock.now + .seconds(10)
            while sched_getscheduler(0) == HashingPriority.idlePolicy && ContinuousClock.now < deadline {
                usleep(10_000)
            }
            return (sched_getscheduler(0), getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0))
        }
        #expect(policy == Int32(SCHED_OTHER))
        #expect(nice == HashingPriority.raisedNice)
        #expect(try await hasher.queue.run { sched_getscheduler(0) } == HashingPriority.idlePolicy)
    }
    #endif
}
