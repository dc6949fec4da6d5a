import Synchronization

/// The stop request shared by every loop of a process: loops read it between batches.
public final class StopSignal: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    public var isRequested: Bool { requested.load(ordering: .acquiring) }

    public func request() { requested.store(true, ordering: .releasing) }

    /// Sleeps up to `seconds`, waking early (within 50 ms) when a stop is requested.
    /// Returns false when it woke because of the stop.
    @discardableResult
    public func sleep(_ seconds: Double) -> Bool {
        var left = seconds
        while left > 0 {
            if isRequested { return false }
            let step = min(left, 0.05)
            usleepSeconds(step)
            left -= step
        }
        return !isRequested
    }
}

#if canImport(Glibc)
import Glibc
#endif

func usleepSeconds(_ seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR {
        request = remaining
    }
}
