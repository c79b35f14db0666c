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

    /// Puts the calling thread in `SCHED_IDLE`; where that is refused, at the lowest nice value.
    static func lowerCurrentThread() {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        if sched_setscheduler(0, idlePolicy, &parameters) != 0 {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
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
