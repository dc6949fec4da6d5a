#if canImport(Glibc)
import Glibc
#endif

/// A point on the monotonic clock, so a wall-clock jump cannot stretch or cut a timeout.
struct Deadline {
    private let nanoseconds: UInt64

    init(secondsFromNow seconds: Double) {
        nanoseconds = Self.now() &+ UInt64(max(0, seconds) * 1_000_000_000)
    }

    /// Milliseconds left, for poll(2); 0 once passed.
    var remainingMilliseconds: Int32 {
        let now = Self.now()
        guard nanoseconds > now else { return 0 }
        return Int32(clamping: (nanoseconds - now + 999_999) / 1_000_000)
    }

    /// Seconds left; 0 once passed.
    var remainingSeconds: Double {
        let now = Self.now()
        guard nanoseconds > now else { return 0 }
        return Double(nanoseconds - now) / 1_000_000_000
    }

    private static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
