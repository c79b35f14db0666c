import Foundation

extension OutgoingWebhooks {
    /// Where an outgoing webhook may send: `http` or `https` URLs whose host resolves only to
    /// public addresses, unless the admin allows a private one (an address, a network, or a host
    /// name such as `homeassistant.local`). Checked when a hook is saved and again before every
    /// delivery, since what a name resolves to can change.
    public enum AddressPolicy {
        /// Why `entry` cannot be in the allow-list, or nil when it can.
        public static func checkEntry(_ entry: String) -> String? {
            if IPNetwork(entry) != nil { return nil }
            // A host name: dot-separated labels of letters, digits and inner hyphens (RFC 1123).
            let labels = entry.split(separator: ".", omittingEmptySubsequences: false)
            let valid =
                entry.count <= 253
                && labels.allSatisfy { label in
                    (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                        && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                }
            return valid ? nil : "'\(entry)' is not an address, a network like 192.168.1.0/24, or a host name."
        }

        /// The URL, if a hook may send to it with `allowed` private entries; else the reason in
        /// a sentence (``ServiceError/invalidField(_:)``).
        static func check(_ text: String, allowed: [String]) async throws -> URL {
            let text = text.trimmingCharacters(in: .whitespaces)
            guard text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
            else { throw ServiceError.invalidField("A webhook's address is an http:// or https:// URL.") }
            guard url.user == nil, url.password == nil else {
                throw ServiceError.invalidField("A webhook's address cannot carry a user name or password.")
            }
            let name = host.lowercased()
            let networks = allowed.compactMap(IPNetwork.init)
            if allowed.contains(where: { $0.lowercased() == name }) { return url }
            let addresses = await HostResolver.addresses(of: name)
            guard !addresses.isEmpty else {
                throw ServiceError.invalidField("\(host) cannot be found (its name does not resolve).")
            }
            for address in addresses where IPNetwork.isPrivate(address) {
                guard networks.contains(where: { $0.contains(address) }) else {
                    let place = IPAddress(name) == nil ? "\(host) is at \(address)," : "\(host) is"
                    throw ServiceError.invalidField(
                        "\(place) a private address; a server admin can allow it in the admin panel (Rooms, “Private addresses webhooks may call”)."
                    )
                }
            }
            return url
        }
    }
}
