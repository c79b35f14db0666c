import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as its bytes (an IPv4-mapped IPv6 address, `::ffff:a.b.c.d`, is the
/// IPv4 address it carries).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public init?(_ text: String) {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let all = withUnsafeBytes(of: &v6) { Array($0) }
            bytes = all[0..<12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] ? Array(all[12...]) : all
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) {
        self.bytes =
            bytes.count == 16 && bytes[0..<12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
            ? Array(bytes[12...]) : bytes
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An address or a network of them (`192.168.1.0/24`, `fd00::/8`, or one address), as the
/// settings that allow addresses name them.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let bits: Int

    public init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let slash = text.firstIndex(of: "/") else {
            guard let address = IPAddress(text) else { return nil }
            self.address = address
            bits = address.bytes.count * 8
            return
        }
        guard let address = IPAddress(String(text[..<slash])), let bits = Int(text[text.index(after: slash)...]) else {
            return nil
        }
        // A mapped IPv4 network (`::ffff:10.0.0.0/104`) is the IPv4 one.
        let mapped = address.bytes.count == 4 && text.contains(":")
        let length = mapped ? bits - 96 : bits
        guard (0...address.bytes.count * 8).contains(length) else { return nil }
        self.address = address
        self.bits = length
    }

    public func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        var left = bits
        for (a, b) in zip(address.bytes, other.bytes) {
            guard left > 0 else { return true }
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            guard a & mask == b & mask else { return false }
            left -= 8
        }
        return true
    }

    public var description: String {
        bits == address.bytes.count * 8 ? address.description : "\(address)/\(bits)"
    }

    /// Addresses a server must not be made to call on someone's say-so: this machine, the home
    /// or office network, link-local (where clouds keep their metadata service), carrier-grade
    /// NAT, multicast and the reserved ranges.
    public static let privateRanges: [IPNetwork] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8",
    ].compactMap(IPNetwork.init)

    /// Whether `address` is in one of ``privateRanges``.
    public static func isPrivate(_ address: IPAddress) -> Bool {
        privateRanges.contains { $0.contains(address) }
    }
}

/// The addresses a host name resolves to (`getaddrinfo`, off the caller's thread).
enum HostResolver {
    static func addresses(of host: String) async -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var result: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
                    return continuation.resume(returning: [])
                }
                defer { freeaddrinfo(first) }
                var found: [IPAddress] = []
                var next: UnsafeMutablePointer<addrinfo>? = first
                while let info = next {
                    if let address = info.pointee.ai_addr {
                        if info.pointee.ai_family == AF_INET {
                            let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                                withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) }
                            }
                            found.append(IPAddress(bytes: bytes))
                        } else if info.pointee.ai_family == AF_INET6 {
                            let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                                withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) }
                            }
                            found.append(IPAddress(bytes: bytes))
                        }
                    }
                    next = info.pointee.ai_next
                }
                continuation.resume(returning: Array(Set(found)))
            }
        }
    }
}
