import Foundation
import Testing

@testable import Services

/// Addresses and networks as the settings that allow them (`/metrics`, outgoing webhooks) read them.
@Suite struct IPNetworkTests {
    @Test func networksHoldTheirAddresses() throws {
        let cases: [(String, String, Bool)] = [
            ("192.168.1.0/24", "192.168.1.20", true),
            ("192.168.1.0/24", "192.168.2.20", false),
            ("192.168.1.0/24", "::ffff:192.168.1.7", true),
            ("10.0.0.0/8", "10.255.0.1", true),
            ("172.16.0.0/12", "172.31.255.255", true),
            ("172.16.0.0/12", "172.32.0.1", false),
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("::1", "::1", true),
            ("fd00::/8", "fd12:3456::1", true),
            ("fd00::/8", "fe80::1", false),
            ("fe80::/10", "fe80::1%eth0", true),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("::ffff:10.0.0.0/104", "10.1.2.3", true),
        ]
        for (network, address, expected) in cases {
            let parsed = try #require(IPNetwork(network), "\(network)")
            let ip = try #require(IPAddress(address), "\(address)")
            #expect(parsed.contains(ip) == expected, "\(network) ∋ \(address)")
        }
        for bad in ["192.168.1.0/33", "192.168.1", "fd00::/129", "host.lan", "1.2.3.4/x", "", "::1/-1"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
        #expect(IPAddress("::ffff:127.0.0.1")?.description == "127.0.0.1")
        #expect(IPAddress("[2001:db8::1]")?.description == "2001:db8::1")
    }

    @Test func privateAddressesAreKnown() throws {
        for address in [
            "127.0.0.1", "10.0.0.5", "172.20.1.1", "192.168.178.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
            "224.0.0.251", "255.255.255.255", "::1", "::", "fd00::1", "fe80::1", "::ffff:192.168.0.1",
        ] {
            #expect(IPNetwork.isPrivate(try #require(IPAddress(address))), "\(address)")
        }
        for address in ["8.8.8.8", "1.1.1.1", "203.0.113.9", "2606:4700:4700::1111", "172.32.0.1"] {
            #expect(!IPNetwork.isPrivate(try #require(IPAddress(address))), "\(address)")
        }
    }

    @Test func allowListEntriesAreChecked() {
        for good in ["192.168.1.20", "192.168.1.0/24", "fd00::/8", "homeassistant.local", "nas"] {
            #expect(OutgoingWebhooks.AddressPolicy.checkEntry(good) == nil, "\(good)")
        }
        for bad in ["not a host!", "http://nas", "-", ".lan", "a/b"] {
            #expect(OutgoingWebhooks.AddressPolicy.checkEntry(bad) != nil, "\(bad)")
        }
    }

    @Test func aPayloadNamesItsCommand() {
        let lights = OutgoingPayload.Command("/lights off kitchen")
        #expect(lights?.name == "lights" && lights?.args == "off kitchen")
        let ping = OutgoingPayload.Command("  /ping")
        #expect(ping?.name == "ping" && ping?.args == "")
        #expect(OutgoingPayload.Command("/") == nil)
        #expect(OutgoingPayload.Command("/ ping") == nil)
        #expect(OutgoingPayload.Command("hello /ping") == nil)
    }
}
