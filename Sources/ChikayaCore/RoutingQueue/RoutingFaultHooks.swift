import Foundation

/// Faults the integration tests inject into the routing worker through the environment: a slow
/// classification (`CHIKAYA_TEST_SLOW_CLASSIFY_MS`, so a test can stop a worker mid-batch) and
/// a complaint text that makes routing fail (`CHIKAYA_TEST_POISON_MARKER`, for retries and dead
/// letters). Debug builds only, which is what the tests run: they are not the product's
/// configuration, and a release build, the one operators run, never reads them.
struct RoutingFaultHooks: Sendable {
    var slowClassifySeconds: Double = 0
    var poisonMarker: String?

    /// The hooks of this process, read once.
    static let current: RoutingFaultHooks = {
        #if DEBUG
        return RoutingFaultHooks(environment: ProcessInfo.processInfo.environment)
        #else
        return RoutingFaultHooks()
        #endif
    }()

    init() {}

    init(environment: [String: String]) {
        if let text = environment["CHIKAYA_TEST_SLOW_CLASSIFY_MS"], let milliseconds = Int(text), milliseconds > 0 {
            slowClassifySeconds = Double(min(milliseconds, 60_000)) / 1000
        }
        if let marker = environment["CHIKAYA_TEST_POISON_MARKER"], !marker.isEmpty {
            poisonMarker = marker
        }
    }
}
