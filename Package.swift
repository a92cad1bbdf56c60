// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "telemetryd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "telemetryd", targets: ["telemetryd"]),
        .library(name: "Telemetry", targets: ["Telemetry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(name: "CTelemetryShims", path: "Sources/CTelemetryShims"),
        .executableTarget(name: "EmbedStatic"),
        .plugin(name: "EmbedStaticPlugin", capability: .buildTool(), dependencies: ["EmbedStatic"]),
        .target(
            name: "Telemetry",
            dependencies: [
                "CTelemetryShims",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings,
            plugins: ["EmbedStaticPlugin"]
        ),
        .executableTarget(
            name: "telemetryd",
            dependencies: [
                "Telemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TelemetryBench",
            dependencies: ["Telemetry"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TelemetryFuzzing",
            dependencies: ["Telemetry"],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CFuzzerDriver", path: "Sources/CFuzzerDriver"),
        .executableTarget(name: "FuzzBatchDecoder", dependencies: ["TelemetryFuzzing", "CFuzzerDriver"], swiftSettings: swiftSettings),
        .executableTarget(name: "FuzzAggregateFile", dependencies: ["TelemetryFuzzing", "CFuzzerDriver"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TelemetryTests",
            dependencies: [
                "Telemetry",
                "TelemetryFuzzing",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            exclude: ["Fuzz/regressions.hex", "Dimensions/user-agents.tsv", "Dimensions/bots.tsv"],
            swiftSettings: swiftSettings
        ),
    ]
)
