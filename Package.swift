// swift-tools-version:6.1
import PackageDescription

/// Links the system's library `name` from its static archive (`libNAME.a`) on Linux, where the
/// `-dev` package ships one beside the shared library; from the shared library elsewhere.
func staticArchive(_ name: String) -> [LinkerSetting] {
    [
        .linkedLibrary(":lib\(name).a", .when(platforms: [.linux])),
        .linkedLibrary(name, .when(platforms: [.macOS])),
    ]
}

let package = Package(
    name: "folio",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "folio", targets: ["FolioCLI"]),
        .library(name: "Folio", targets: ["Folio"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
    ],
    targets: [
        // LMDB as Debian ships it (liblmdb-dev); `tools/setup` installs it. Its header and archive
        // are where the compiler and linker look by default, so no pkg-config, whose flags would
        // link the shared library.
        .systemLibrary(name: "CLMDB", providers: [.apt(["liblmdb-dev"])]),
        // Linked from its static archive on Linux (`-l:`, which names the file): a `folio` command
        // is a process of its own, and loading a shared library is part of every start.
        .target(name: "LMDB", dependencies: ["CLMDB"], linkerSettings: staticArchive("lmdb")),
        // LZ4 as Debian ships it (liblz4-dev), for log payloads; `tools/setup` installs it.
        .systemLibrary(name: "CLZ4", providers: [.apt(["liblz4-dev"])]),
        .target(
            name: "EventStore",
            dependencies: ["LMDB", "CLZ4", .product(name: "Crypto", package: "swift-crypto")],
            linkerSettings: staticArchive("lz4")
        ),
        .target(name: "Domain"),
        .target(name: "Projections", dependencies: ["EventStore", "Domain", "LMDB"]),
        .target(
            name: "Folio",
            dependencies: [
                "Domain", "EventStore", "Projections", "LMDB",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "FolioCLI",
            dependencies: [
                "Folio", "Domain", "EventStore", "Projections",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // A long-running writer that tests and tools/ drive from outside: concurrent writers, crash harness.
        .executableTarget(name: "Worker", dependencies: ["Folio", "EventStore", .product(name: "SystemPackage", package: "swift-system")]),
        // The benchmarks' driver; `tools/bench` builds and runs it beside raw LMDB in C.
        .executableTarget(name: "Bench", dependencies: ["Folio", "EventStore", "Projections", .product(name: "SystemPackage", package: "swift-system")]),
        // W4's floor: `folio client show`'s command shape parsed by swift-argument-parser, no work.
        .executableTarget(name: "ParserFloor", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]),

        .testTarget(name: "LMDBTests", dependencies: ["LMDB", "CLMDB"]),
        .testTarget(name: "EventStoreTests", dependencies: ["EventStore", "LMDB"]),
        .testTarget(name: "DomainTests", dependencies: ["Domain"]),
        .testTarget(name: "ProjectionsTests", dependencies: ["Projections", "EventStore", "Domain", "LMDB"]),
        .testTarget(
            name: "FolioTests",
            dependencies: [
                "Folio", "Domain", "EventStore", "Projections", "LMDB",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .testTarget(
            name: "FolioCLITests",
            dependencies: ["FolioCLI", "Folio", "Domain", "EventStore", "Projections", "LMDB", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.swiftLanguageMode(.v6))
    target.swiftSettings = settings
}
