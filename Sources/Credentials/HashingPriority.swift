import Foundation

/// How the hashing threads are scheduled (Linux; elsewhere these do nothing).
///
/// A hashing thread runs in the `SCHED_IDLE` class: any other thread that wakes on its core takes
/// the core at once (at a mere nice 10, a hash kept it for the rest of its time slice,
/// milliseconds), so a flood of sign-ins never delays the messages of people already signed in.
/// But an idle-class thread gets almost nothing while anything else keeps the cores busy — a
/// video transcode on the same machine, say — so a hash still running after
/// ``starvationLimit`` is raised to nice 10 until it ends: sign-ins slow down then, but go on.
enum HashingPriority {
    /// A hash running longer than this (it takes ~25 ms on a free core) is raised to nice 10.
    static let starvationLimit = Duration.milliseconds(250)
    /// The nice value a starved hash runs at until it ends.
    static let raisedNice: Int32 = 10
    /// Linux's `SCHED_IDLE` policy (glibc's headers hide it unless `_GNU_SOURCE`).
    static let idlePolicy: Int32 = 5

    /// Linux's `RLIMIT_NICE` resource and `CAP_SYS_NICE` capability bit (not imported into Swift).
    static let niceLimitResource: Int32 = 13
    static let niceCapabilityBit: UInt64 = 23

    /// Whether a thread of this process may be moved out of `SCHED_IDLE` again: Linux allows it
    /// with `CAP_SYS_NICE` (root, usually) or an `RLIMIT_NICE` of at least 20, which allows nice 0
    /// (the systemd unit `install.sh` writes sets `LimitNICE=+0`). Without either, a starved hash
    /// could never be raised, so the hashing threads run at nice 10 instead of `SCHED_IDLE`.
    static let mayLeaveIdle: Bool = {
        #if os(Linux)
        var limit = rlimit()
        let niceLimit =
            getrlimit(__rlimit_resource_t(UInt32(niceLimitResource)), &limit) == 0 ? UInt64(limit.rlim_cur) : 0
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        return mayLeaveIdle(status: status, niceLimit: niceLimit)
        #else
        return false
        #endif
    }()

    /// ``mayLeaveIdle`` from the text of `/proc/self/status` and the current `RLIMIT_NICE`.
    static func mayLeaveIdle(status: String, niceLimit: UInt64) -> Bool {
        let effective = status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
            .flatMap { UInt64($0.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) }
        return niceLimit >= 20 || (effective ?? 0) & (1 << niceCapabilityBit) != 0
    }

    /// Puts the calling thread in `SCHED_IDLE` where it may later be raised (``mayLeaveIdle``),
    /// else at nice 10.
    static func lowerCurrentThread() {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        if !mayLeaveIdle || sched_setscheduler(0, idlePolicy, &parameters) != 0 {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, raisedNice)
        }
        #endif
    }

    /// Moves the thread `id` (from ``currentThreadID()``) to the normal class at nice 10.
    static func raise(_ id: pid_t) {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        _ = sched_setscheduler(id, Int32(SCHED_OTHER), &parameters)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(id), raisedNice)
        #endif
    }

    /// The kernel's id of the calling thread (`/proc/thread-self` links to `<pid>/task/<tid>`),
    /// so another thread can change its scheduling; nil where there is no such link.
    static func currentThreadID() -> pid_t? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let link = String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return link.split(separator: "/").last.flatMap { pid_t($0) }
    }
}
