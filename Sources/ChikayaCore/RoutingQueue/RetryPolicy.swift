/// How long to wait before trying a failed job again: exponential in the attempt number,
/// capped, with jitter so that many jobs failing together do not retry together.
public struct RetryPolicy: Sendable {
    public let base: Double
    public let cap: Double

    public init(base: Double, cap: Double) {
        self.base = base
        self.cap = cap
    }

    /// Seconds to wait after failed attempt number `attempt` (1 for the first failure).
    /// `jitter` in 0...1 picks a point in the upper half of the window (a "equal jitter" scheme),
    /// so the delay never collapses to zero.
    public func delay(afterAttempt attempt: Int, jitter: Double = Double.random(in: 0...1)) -> Double {
        let exponent = Double(max(attempt - 1, 0))
        let window = min(cap, base * pow2(exponent))
        return window / 2 + window / 2 * min(max(jitter, 0), 1)
    }

    private func pow2(_ exponent: Double) -> Double {
        // Past 2^60 the cap has long been reached; stop before the Double overflows.
        exponent >= 60 ? Double(1 << 60) : Double(1 << Int(exponent))
    }

    /// Routing retries: first within about a second, capped at five minutes.
    public static let routing = RetryPolicy(base: 1, cap: 300)
    /// Mail retries: the first after `base` seconds (`notifier.retry_base_seconds`, a minute by
    /// default), capped at an hour.
    public static func mail(base: Double) -> RetryPolicy { RetryPolicy(base: base, cap: 3_600) }
}
