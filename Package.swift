// swift-tools-version:6.1
// Chikaya Router: no package dependencies, only Debian system libraries (libpq, OpenSSL).
import PackageDescription

let package = Package(
    name: "chikaya-router",
    products: [
        .executable(name: "chikaya", targets: ["chikaya"]),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        .target(name: "Routing"),
        .target(name: "Mail", dependencies: ["COpenSSL"]),
        // Prometheus text exposition, the process's metrics registry and the /metrics responder.
        .target(name: "Metrics"),
        .target(name: "ChikayaCore", dependencies: ["Postgres", "Routing", "Mail", "Metrics"]),
        .executableTarget(name: "chikaya", dependencies: ["ChikayaCore"]),
        // Shared by the integration tests: a fresh database per test on the cluster scripts/test starts.
        .target(name: "TestSupport", dependencies: ["Postgres"], path: "Tests/TestSupport"),
        // A test's identifier says what it needs: "Unit" (these three targets whole, and the suites
        // so named elsewhere) runs without a database or servers: `swift test --filter Unit`;
        // "Integration" needs what scripts/test starts.
        .testTarget(name: "RoutingUnitTests", dependencies: ["Routing"], path: "Tests/RoutingTests"),
        .testTarget(name: "MailUnitTests", dependencies: ["Mail"], path: "Tests/MailTests"),
        .testTarget(name: "MetricsUnitTests", dependencies: ["Metrics"], path: "Tests/MetricsTests"),
        .testTarget(name: "MailIntegrationTests", dependencies: ["Mail"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "ChikayaCoreTests", dependencies: ["ChikayaCore", "chikaya", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
