import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Web

@Suite struct ServerRoutesTests {
    @Test func unknownAPIRoutesGetJSON404s() async throws {
        try await withApp { api, _ in
            let response = try await api.send(.get, "/api/v1/nothing-here")
            #expect(response.status == .notFound)
            #expect(response.errorCode == "not_found")
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
        }
    }

    @Test func httpsServersTellBrowsersToStayOnHTTPS() async throws {
        try await withApp({ $0.publicURL = "https://chat.example.org" }) { api, _ in
            for path in ["/", "/healthz", "/api/v1/nothing-here"] {
                try await api.client.execute(uri: path, method: .get) { response in
                    #expect(response.headers[.strictTransportSecurity] == "max-age=31536000", "\(path)")
                }
            }
        }
        // Plain HTTP on a home network: no HSTS (it would mean nothing, and break a later change).
        try await withApp { api, _ in
            try await api.client.execute(uri: "/", method: .get) { response in
                #expect(response.headers[.strictTransportSecurity] == nil)
            }
        }
    }

    @Test func healthzSaysOK() async throws {
        try await withApp { api, _ in
            let response = try await api.send(.get, "/healthz")
            #expect(response.status == .ok)
            #expect(response.json["status"] as? String == "ok")
        }
    }

    @Test func pagesComeFromTheEmbeddedPublicFolder() async throws {
        try await withApp { api, _ in
            for path in ["/", "/invite/abc234", "/setup", "/app.js", "/api.js", "/style.css", "/setup.js"] {
                try await api.client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    let csp = response.headers[.contentSecurityPolicy] ?? ""
                    #expect(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"))
                    #expect(response.headers[.xContentTypeOptions] == "nosniff")
                }
            }
            try await api.client.execute(uri: "/", method: .get) { response in
                let html = String(buffer: response.body)
                #expect(html.contains("data-testid=\"login-username\""))
                #expect(html.contains("data-testid=\"register-invite\""))
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let etag = try #require(response.headers[.eTag])
                try await api.client.execute(uri: "/", method: .get, headers: [.ifNoneMatch: etag]) { cached in
                    #expect(cached.status == .notModified)
                }
            }
            try await api.client.execute(uri: "/no-such-page", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                // The error page template, with the status in words and a way back.
                let html = String(buffer: response.body)
                #expect(html.contains("<h1>Not Found</h1>") && html.contains("<a href=\"/\">Go to Hearth</a>"))
            }
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await withApp { api, _ in
            let one = try await api.send(.get, "/healthz")
            let two = try await api.send(.get, "/healthz")
            let first = try #require(one.headers[HTTPField.Name("X-Request-Id")!])
            #expect(first != two.headers[HTTPField.Name("X-Request-Id")!])
        }
    }

    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() {
        let trusted: Set<String> = ["10.0.0.1"]
        #expect(
            ClientAddressMiddleware.resolve(peer: "192.168.1.5", forwardedFor: ["1.2.3.4"], trustedProxies: trusted)
                == "192.168.1.5")
        #expect(
            ClientAddressMiddleware.resolve(peer: "10.0.0.1", forwardedFor: ["1.2.3.4"], trustedProxies: trusted)
                == "1.2.3.4")
        #expect(
            ClientAddressMiddleware.resolve(
                peer: "10.0.0.1", forwardedFor: ["6.6.6.6, 1.2.3.4"], trustedProxies: trusted) == "1.2.3.4")
        #expect(
            ClientAddressMiddleware.resolve(peer: "10.0.0.1", forwardedFor: [], trustedProxies: trusted) == "10.0.0.1")
    }
}
