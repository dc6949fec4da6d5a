/// A point on the monotonic clock, so a wall-clock jump cannot stretch or cut a timeout. The
/// clock is the standard library's `ContinuousClock`, the one Mail already times SMTP phases with
/// (and Postgres and Metrics their waits): no second hand-made clock in this target.
struct Deadline {
    private let instant: ContinuousClock.Instant

    init(secondsFromNow seconds: Double) {
        // Bounded, so an absurd configured timeout cannot overflow the Duration.
        instant = .now + .seconds(min(max(0, seconds), 1e9))
    }

    /// Milliseconds left, for poll(2), rounded up; 0 once passed.
    var remainingMilliseconds: Int32 {
        guard let (seconds, attoseconds) = remaining else { return 0 }
        return Int32(clamping: seconds * 1_000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    /// Seconds left; 0 once passed.
    var remainingSeconds: Double {
        guard let (seconds, attoseconds) = remaining else { return 0 }
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// What is left as whole seconds and attoseconds; nil once passed.
    private var remaining: (seconds: Int64, attoseconds: Int64)? {
        let left = ContinuousClock.now.duration(to: instant)
        return left > .zero ? left.components : nil
    }
}
