import Foundation

extension Date {
    /// Milliseconds since the Unix epoch: how every time is stored and sent.
    var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}

extension TimeInterval {
    /// This many seconds in milliseconds, saturating at the largest `Int64`.
    var milliseconds: Int64 {
        let value = (self * 1000).rounded()
        return value >= Double(Int64.max) ? Int64.max : Int64(value)
    }
}
