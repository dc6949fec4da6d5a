#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock (CLOCK_MONOTONIC): for durations and deadlines that a
/// wall-clock jump must not stretch or cut. Only differences mean anything. The targets below
/// this one (Mail's deadlines, Postgres, Metrics) use the standard library's `ContinuousClock`.
func monotonicNow() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
}
