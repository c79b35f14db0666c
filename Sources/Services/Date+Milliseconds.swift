import Foundation

extension Date {
    /// Milliseconds since the Unix epoch: how every time is stored and sent.
    var epochMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}
