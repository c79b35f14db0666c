import CArgon2
import Foundation
import Synchronization

/// Argon2id hashing and verification on a small pool of dedicated threads.
///
/// Hashing is deliberately slow and memory-hungry, so it never runs on the event loops or the
/// cooperative pool: jobs wait in a bounded queue for one of `threads` threads. When the queue is
/// full the call fails at once with ``PasswordHasherError/busy`` so the caller can shed load.
public final class PasswordHasher: Sendable {
    /// How the pool hashes and how much it takes on.
    public struct Configuration: Sendable {
        /// Parameters for new hashes; stored hashes with other parameters are reported for rehash.
        public var parameters: Argon2Parameters
        /// Stored hashes above this are refused.
        public var ceiling: Argon2Parameters
        /// Hashing threads.
        public var threads: Int
        /// Jobs that may wait for a thread before new ones are refused.
        public var queueLimit: Int

        /// Creates a configuration; the defaults suit a 2-core home server.
        public init(
            parameters: Argon2Parameters = .default,
            ceiling: Argon2Parameters = .ceiling,
            threads: Int = 1,
            queueLimit: Int = 32
        ) {
            self.parameters = parameters
            self.ceiling = ceiling
            self.threads = threads
            self.queueLimit = queueLimit
        }
    }

    /// The result of checking a password against a stored hash.
    public enum Verification: Sendable, Equatable {
        /// The password matches; `needsRehash` when the hash used other parameters than the current ones.
        case valid(needsRehash: Bool)
        /// The password does not match.
        case invalid
    }

    /// The configuration the pool runs with.
    public let configuration: Configuration
    let queue: JobQueue
    let dummyHash = Mutex<String?>(nil)

    /// Starts the hashing threads.
    public init(configuration: Configuration = .init()) throws {
        guard configuration.parameters.isValid, configuration.parameters.fits(under: configuration.ceiling) else {
            throw PasswordHasherError.invalidParameters(configuration.parameters.description)
        }
        self.configuration = configuration
        self.queue = JobQueue(threads: max(1, configuration.threads), limit: max(1, configuration.queueLimit))
    }

    deinit {
        queue.shutdown()
    }

    /// True when the queue is full, so a hash asked for now would fail with
    /// ``PasswordHasherError/busy``: lets a caller shed a request before doing any other work for it.
    public var isBusy: Bool { queue.isFull }

    /// Hashes and verifications waiting for a thread now.
    public var queueDepth: Int { queue.depth }

    /// Hashes a password with the configured parameters into a PHC string.
    public func hash(_ password: String) async throws -> String {
        let parameters = configuration.parameters
        return try await queue.run { try Self.computeHash(password, parameters: parameters) }
    }

    /// Checks a password against a stored PHC string.
    ///
    /// Throws ``PasswordHasherError/unsupportedHash`` for a string that is not Argon2id or asks
    /// for more than the ceiling, and ``PasswordHasherError/busy`` when the queue is full.
    public func verify(_ password: String, against phc: String) async throws -> Verification {
        guard let stored = Argon2Parameters(phc: phc), stored.isValid, stored.fits(under: configuration.ceiling) else {
            throw PasswordHasherError.unsupportedHash
        }
        let current = configuration.parameters
        return try await queue.run {
            let result = phc.withCString { encoded in
                Array(password.utf8).withUnsafeBytes { argon2id_verify(encoded, $0.baseAddress, $0.count) }
            }
            switch result {
            case ARGON2_OK.rawValue: return .valid(needsRehash: stored != current)
            case ARGON2_VERIFY_MISMATCH.rawValue: return .invalid
            default: throw PasswordHasherError.argon2(Self.message(result))
            }
        }
    }

    /// Spends the time of one verification without any account behind it, so that callers can
    /// answer an unknown username exactly as slowly as a wrong password.
    public func verifyDummy(_ password: String) async throws {
        if let existing = dummyHash.withLock({ $0 }) {
            _ = try await verify(password, against: existing)
            return
        }
        // The first time, hashing a random password costs the same, and gives the dummy to verify against later.
        let hash = try await self.hash(SecretToken.generate())
        dummyHash.withLock { if $0 == nil { $0 = hash } }
    }

    static func computeHash(_ password: String, parameters: Argon2Parameters) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let length = argon2_encodedlen(
            parameters.iterations, parameters.memoryKiB, parameters.parallelism,
            UInt32(salt.count), 32, Argon2_id)
        var encoded = [CChar](repeating: 0, count: length + 1)
        let bytes = Array(password.utf8)
        let result = bytes.withUnsafeBytes { pwd in
            argon2id_hash_encoded(
                parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                pwd.baseAddress, pwd.count, salt, salt.count, 32, &encoded, encoded.count)
        }
        guard result == ARGON2_OK.rawValue else { throw PasswordHasherError.argon2(message(result)) }
        return String(decoding: encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func message(_ code: Int32) -> String {
        String(cString: argon2_error_message(code))
    }
}

/// What the password hasher can fail with.
public enum PasswordHasherError: Error, Equatable, Sendable {
    /// The queue is full; try again shortly.
    case busy
    /// The stored hash is not Argon2id v19 or asks for more than the ceiling.
    case unsupportedHash
    /// The configured parameters are out of range.
    case invalidParameters(String)
    /// libargon2 reported an error.
    case argon2(String)
}

/// A bounded FIFO of jobs served by dedicated threads at idle priority (see ``HashingPriority``),
/// and a watchdog thread that raises a job's thread when the job has starved too long.
final class JobQueue: @unchecked Sendable {
    /// What a thread is working on: since when, and whether the watchdog has raised it.
    private struct Running {
        let started: ContinuousClock.Instant
        var raised = false
    }

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var head = 0
    private var stopped = false
    private let limit: Int
    private var threadIDs: [pid_t?]
    private var running: [Running?]

    init(threads: Int, limit: Int) {
        self.limit = limit
        threadIDs = Array(repeating: nil, count: threads)
        running = Array(repeating: nil, count: threads)
        for index in 0..<threads {
            start("argon2-hash-\(index)") { [self] in work(index) }
        }
        if HashingPriority.mayLeaveIdle {
            start("argon2-watchdog") { [self] in watchForStarvation() }
        }
    }

    /// Starts a thread that the system's tools (`top -H`, `/proc/<pid>/task/*/comm`) show as
    /// `name` (Linux keeps 15 bytes of it). Foundation's `Thread.name` does not reach the kernel
    /// for a thread that is not running yet, so the thread names itself.
    private func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            body()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    var isFull: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped || jobs.count - head >= limit
    }

    func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard !stopped, jobs.count - head < limit else {
                continuation.resume(throwing: PasswordHasherError.busy)
                return
            }
            jobs.append { continuation.resume(with: Result { try body() }) }
            condition.broadcast()
        }
    }

    private func work(_ index: Int) {
        HashingPriority.lowerCurrentThread()
        condition.lock()
        threadIDs[index] = HashingPriority.currentThreadID()
        condition.unlock()
        while true {
            condition.lock()
            while head == jobs.count && !stopped { condition.wait() }
            if head == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            if head > 64 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            running[index] = Running(started: .now)
            condition.broadcast()  // the watchdog starts timing this job
            condition.unlock()
            job()
            condition.lock()
            let raised = running[index]?.raised ?? false
            running[index] = nil
            condition.unlock()
            if raised { HashingPriority.lowerCurrentThread() }
        }
    }

    /// Raises the thread of any job running longer than ``HashingPriority/starvationLimit``;
    /// sleeps while no job runs.
    private func watchForStarvation() {
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            let now = ContinuousClock.now
            for index in running.indices {
                guard let job = running[index], !job.raised, now - job.started >= HashingPriority.starvationLimit,
                    let id = threadIDs[index]
                else { continue }
                HashingPriority.raise(id)
                running[index]?.raised = true
            }
            if running.contains(where: { $0 != nil }) {
                _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
            } else {
                condition.wait()
            }
        }
    }
}
