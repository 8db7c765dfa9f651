// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
        .library(name: "Mongo", targets: ["Mongo"]),
        .library(name: "AMQP", targets: ["AMQP"]),
        .library(name: "Redis", targets: ["Redis"]),
        .library(name: "Passwords", targets: ["Passwords"]),
        .library(name: "ServiceKit", targets: ["ServiceKit"]),
        .library(name: "Events", targets: ["Events"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // C libraries from Debian's -dev packages: module maps only.
        .systemLibrary(name: "CMongoc", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev", "libbson-dev"])]),
        .systemLibrary(name: "CRabbitMQ", pkgConfig: "librabbitmq", providers: [.apt(["librabbitmq-dev"])]),
        // Only the benchmark's baseline links hiredis: our Redis client speaks RESP itself.
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CArgon2", pkgConfig: "libargon2", providers: [.apt(["libargon2-dev"])]),

        .target(name: "BSON", swiftSettings: swiftSettings),
        .target(name: "ClientThreads", dependencies: [.product(name: "NIOPosix", package: "swift-nio")], swiftSettings: swiftSettings),
        .target(
            name: "Mongo",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "CMongoc", "BSON", "ClientThreads",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AMQP",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "CRabbitMQ",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Redis",
            dependencies: [
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Passwords",
            dependencies: ["CArgon2", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Events",
            dependencies: [
                "Mongo", "AMQP", "BSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What the gateway and the services agree on: client addresses behind trusted
        // proxies, request ids, the error body. No database, cache or broker client.
        .target(name: "EdgeContract", swiftSettings: swiftSettings),
        // How every HTTP server of ours drains its connections at shutdown.
        .target(
            name: "ConnectionDrain",
            dependencies: [
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServiceKit",
            dependencies: [
                "Mongo", "Redis", "AMQP", "BSON", "ConnectionDrain", "EdgeContract",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The services: one library each (routes, domain, store), assembled by App+build.swift.
        .target(
            name: "Auth",
            dependencies: [
                "ServiceKit", "EdgeContract", "Mongo", "Redis", "AMQP", "Events", "Passwords", "BSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Profile",
            dependencies: [
                "ServiceKit", "Mongo", "Redis", "Events", "BSON",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SocketIO",
            dependencies: [
                "ConnectionDrain",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Chat",
            dependencies: [
                "ServiceKit", "Events", "Mongo", "Redis", "AMQP", "BSON", "SocketIO", "EdgeContract",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "EdgeContract", "ConnectionDrain",
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Sources/Request; named apart from Hummingbird's `Request` type.
        .target(
            name: "RequestService",
            dependencies: [
                "ServiceKit", "Mongo", "Redis", "AMQP", "Events", "BSON",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Sources/Request",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "ServiceKit", "Mongo", "AMQP", "Redis", "Auth", "Profile", "RequestService", "Chat", "Gateway", "SocketIO",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Release-build benchmark of the Swift clients against the bare C libraries.
        .executableTarget(
            name: "SwitchboardBench",
            dependencies: ["Mongo", "AMQP", "Redis", "BSON", "Passwords", "CMongoc", "CRabbitMQ", "CHiredis", "SocketIO", "ServiceKit",
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOWebSocket", package: "swift-nio")],
            path: "Benchmarks/SwitchboardBench",
            swiftSettings: swiftSettings
        ),

        .target(name: "TestSupport", dependencies: [], path: "Tests/TestSupport", exclude: ["Scripts"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ConnectionDrainTests",
            dependencies: [
                "ConnectionDrain", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(name: "BSONTests", dependencies: ["BSON"], swiftSettings: swiftSettings),
        .testTarget(name: "MongoTests", dependencies: ["Mongo", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "TestSupport", .product(name: "NIOCore", package: "swift-nio")], swiftSettings: swiftSettings),
        .testTarget(
            name: "EventsTests",
            dependencies: ["Events", "TestSupport", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PasswordsTests", dependencies: ["Passwords"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AuthTests",
            dependencies: [
                "Auth", "TestSupport", "ServiceTestSupport", "Redis", "ServiceKit",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServiceTestSupport",
            dependencies: [
                "Auth", "Profile", "RequestService", "Chat", "ServiceKit", "Events", "AMQP", "Mongo", "BSON", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/ServiceTestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "ProfileTests",
            dependencies: ["Profile", "ServiceTestSupport", "TestSupport", "Redis", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "RequestTests",
            dependencies: ["RequestService", "ServiceTestSupport", "TestSupport", "Events", "AMQP", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "EdgeContract", "ServiceKit", "TestSupport", "ServiceTestSupport", "Auth", "Mongo",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SocketIOTests",
            dependencies: [
                "SocketIO", "Gateway", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            exclude: ["Clients"],  // python-socketio scripts the tests run
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ChatTests",
            dependencies: ["Chat", "ServiceTestSupport", "TestSupport", "BSON", "Mongo", .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            exclude: ["Clients"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["ServiceTestSupport", "TestSupport", "Mongo"],
            exclude: ["e2e.py", "reference_client.py"],  // the clients it drives the system with
            swiftSettings: swiftSettings),
        .testTarget(
            name: "StressTests",
            dependencies: ["TestSupport"],
            exclude: ["stress.py", "stack.py", "faults.py", "load.py", "hostile.py", "rolling.py", "schemathesis.toml", "schemathesis_hooks.py"],  // the stress run, in Python
            swiftSettings: swiftSettings),
        .testTarget(
            name: "DeploymentTests",
            dependencies: ["Gateway", "TestSupport"],
            exclude: ["check_deployment.py", "validate_kubernetes.py"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "APITests",
            dependencies: ["ServiceTestSupport", "ServiceKit", "Profile", "BSON", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: swiftSettings),
        .testTarget(name: "SwitchboardTests", dependencies: ["TestSupport", "AMQP", "Events", "Mongo"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: [
                "ServiceKit", "EdgeContract", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
