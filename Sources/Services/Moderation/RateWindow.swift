/// The send times of one user under one `rate` rule: the last `count` of them, in a ring.
struct RateWindow: Sendable {
    private var times: [Int64]
    private var next = 0
    private var filled = 0
    /// Set once the limit was hit in the current window, so only the first refusal is audited.
    var reported = false

    init(count: Int) {
        times = Array(repeating: 0, count: count)
    }

    /// Whether `count` sends already fall within `window` milliseconds before `now`.
    func isFull(now: Int64, window: Int64) -> Bool {
        filled == times.count && oldest > now - window
    }

    /// Milliseconds until the oldest send leaves the window.
    func wait(now: Int64, window: Int64) -> Int64 {
        max(0, oldest + window - now)
    }

    /// The newest send time, 0 before the first.
    var newest: Int64 { filled == 0 ? 0 : times[(next + times.count - 1) % times.count] }

    private var oldest: Int64 { filled < times.count ? times[0] : times[next] }

    mutating func record(_ now: Int64) {
        times[next] = now
        next = (next + 1) % times.count
        filled = min(filled + 1, times.count)
        reported = false
    }
}
