// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "hearth",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hearth", targets: ["hearth"]),
        .executable(name: "HearthBench", targets: ["HearthBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
    ],
    targets: [
        // C libraries from Debian, through pkg-config.
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // OpenSSL's libcrypto (Debian `libssl-dev`): ChaCha20-Poly1305 sealed and opened in place,
        // for the age payload (swift-crypto's API copies every 64 KiB chunk into new `Data`).
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // RE2 (Debian `libre2-dev`), the linear-time regex engine moderation rules run on, behind a
        // small C++ shim with a C interface: Swift calls C, not RE2's C++ classes.
        .target(name: "CRE2", linkerSettings: [.linkedLibrary("re2")]),
        // A VFS over SQLite's default one (Debian `libsqlite3-dev`, the SQLite GRDB uses) that
        // writes a commit's WAL frames in one system call per 96 KiB instead of two per frame.
        .target(name: "CSQLiteWAL", linkerSettings: [.linkedLibrary("sqlite3")]),

        // Build-time embedding of Migrations/ and Public/ into the binary.
        .plugin(name: "EmbedFiles", capability: .buildTool()),

        .target(
            name: "Age",
            dependencies: [
                "COpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "WebPush",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Credentials",
            dependencies: [
                "CArgon2", "CQRencode",
                .product(name: "Crypto", package: "swift-crypto"),
                // zlib, for QR code PNGs.
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Storage",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's own calls, for the one insert every message makes (`DirectStatement`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CSQLiteWAL",
                // SHA-256 for migrations that turn stored secrets into their digests.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Migrations"],
            plugins: ["EmbedFiles"]
        ),
        .target(
            name: "Services",
            dependencies: [
                "Storage", "Credentials", "Age", "CRE2", "WebPush",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "Web",
            dependencies: [
                "Services", "Storage", "Credentials", "Age",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "MultipartKit", package: "multipart-kit"),
            ],
            exclude: ["Public", "Templates"],
            plugins: ["EmbedFiles"]
        ),
        .executableTarget(
            name: "hearth",
            dependencies: [
                "Web", "Services", "Storage", "Credentials", "Age",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "HearthBench",
            dependencies: [
                "Credentials", "Age", "Services", "Storage", "Web", "WebPush",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The reference-peer workload is Python (`HearthBench peers` runs it).
            exclude: ["Peers"]
        ),

        .testTarget(
            name: "AgeTests", dependencies: ["Age", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Vectors"]),
        .testTarget(name: "CredentialsTests", dependencies: ["Credentials"]),
        .testTarget(
            name: "WebPushTests",
            dependencies: ["WebPush", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "Storage", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "HearthTestSupport",
            dependencies: ["Services", "Credentials"],
            path: "Tests/HearthTestSupport"
        ),
        .testTarget(
            name: "ServicesTests",
            dependencies: [
                "Services", "Storage", "Credentials", "Age", "HearthTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "WebTests",
            dependencies: [
                "Web", "Services", "Storage", "Credentials", "HearthTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "HearthCLITests", dependencies: ["hearth", "Credentials", "HearthTestSupport"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
