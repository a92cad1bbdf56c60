// swift-tools-version:6.1
import PackageDescription

// The ceiling of the stack: a minimal Hummingbird app that appends request bodies unparsed, no fsync.
let package = Package(
    name: "raw-append",
    platforms: [.macOS(.v15)],
    dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1")],
    targets: [
        .executableTarget(name: "RawAppend", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
    ]
)
