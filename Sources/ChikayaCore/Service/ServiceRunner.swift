import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs the loops of a long-lived command (worker, notifier), each on a thread of its own so
/// that their blocking database and socket calls never occupy Swift's cooperative pool, and
/// turns SIGTERM/SIGINT into a graceful stop.
///
/// First signal: stop claiming, let in-flight work finish within `grace` seconds, exit 0.
/// Second signal: exit at once with status 1 (claimed work is left to its lease).
public struct ServiceRunner: Sendable {
    public let name: String
    public let loops: Int
    public let grace: Double
    public let logger: Logger
    public let stop: StopSignal

    public init(name: String, loops: Int, grace: Double, logger: Logger, stop: StopSignal = StopSignal()) {
        self.name = name
        self.loops = loops
        self.grace = grace
        self.logger = logger
        self.stop = stop
    }

    /// Runs `body(index)` on `loops` threads until they all return, or until a signal's grace
    /// period ends. Returns true when every loop returned by itself.
    public func run(_ body: @escaping @Sendable (Int) -> Void) -> Bool {
        blockStopSignals()
        let finished = Mutex(0)
        let done = DispatchSemaphore(value: 0)
        startSignalThread()
        var threads: [JoinableThread] = []
        for index in 0..<loops {
            threads.append(JoinableThread(name: "\(name)-\(index)") {
                body(index)
                finished.withLock { $0 += 1 }
                done.signal()
            })
        }
        // Wait for the loops; once a stop is requested, give them `grace` seconds at most.
        var stopDeadline: Double?
        while finished.withLock({ $0 }) < loops {
            _ = done.wait(timeout: .now() + .milliseconds(100))
            if stop.isRequested {
                let now = monotonicNow()
                if stopDeadline == nil { stopDeadline = now + grace }
                if let deadline = stopDeadline, now >= deadline, finished.withLock({ $0 }) < loops {
                    logger.warn("shutdown_grace_exceeded", [("grace_seconds", grace),
                                                            ("loops_unfinished", loops - finished.withLock { $0 })])
                    ServiceRunner.leftThreadsRunning.withLock { $0 = true }
                    return false
                }
            }
        }
        // Every loop has returned; wait for its thread to end as well. A thread that is still
        // ending runs its thread-local destructors (libpq's Kerberos library keeps state there),
        // and if the process exits meanwhile those destructors meet state that exit() has
        // already torn down: the process then aborts instead of exiting 0.
        for thread in threads { thread.join() }
        return true
    }

    /// Set when a loop did not return within its grace period: the process must then end with
    /// `_exit` (see `ServiceRunner.exitProcess`), since a normal exit would run library
    /// destructors under threads that are still working.
    static let leftThreadsRunning = Mutex(false)

    /// Ends the process with `code`: a normal `exit` when every thread was joined, `_exit` after
    /// flushing the standard streams when a loop was left running past its grace period.
    public static func exitProcess(_ code: Int32) -> Never {
        if leftThreadsRunning.withLock({ $0 }) {
            fflush(nil) // every open output stream: _exit does not flush
            _exit(code)
        }
        exit(code)
    }

    private func blockStopSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        // Blocked in this thread before any other starts, so every thread inherits the mask and
        // only the signal thread below receives them, through sigwait.
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    private func startSignalThread() {
        let stop = self.stop
        let logger = self.logger
        let thread = Thread {
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGTERM)
            sigaddset(&set, SIGINT)
            var received: Int32 = 0
            var count = 0
            while sigwait(&set, &received) == 0 {
                count += 1
                if count == 1 {
                    logger.info("stop_requested", [("signal", received == SIGTERM ? "SIGTERM" : "SIGINT")])
                    stop.request()
                } else {
                    logger.warn("stop_now", [("signal", received == SIGTERM ? "SIGTERM" : "SIGINT")])
                    _exit(1)
                }
            }
        }
        thread.name = "\(name)-signals"
        thread.start()
    }
}
