import Foundation

/// A child process started with posix_spawn and a clean signal state.
///
/// Swift's concurrency and Dispatch threads run with most signals blocked, and Foundation's
/// `Process` lets a child inherit that mask: a Python server started that way never sees the
/// SIGTERM meant to stop it. Here the mask is emptied and the default handlers restored.
public final class SpawnedProcess: @unchecked Sendable {
    // @unchecked: `pid` and `exitStatus` are only touched by the thread that owns the test.
    public let pid: pid_t
    private var exitStatus: Int32?

    /// Starts `command` with output appended to `outputPath` (or discarded).
    public init(_ command: [String], outputPath: String? = nil) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, command[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw TestCluster.CommandFailed(description: "cannot start \(command[0]): errno \(result)")
        }
        pid = child
    }

    /// Waits up to `timeout` seconds; returns the wait status, or nil if it is still running.
    @discardableResult
    public func wait(timeout: Double) -> Int32? {
        if let exitStatus { return exitStatus }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        repeat {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                exitStatus = status
                return status
            }
            if reaped < 0 && errno != EINTR { return nil }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    /// Polls `ready` until it holds, for up to `timeout` seconds; false at once if the process has
    /// exited. The Python peers take seconds to start on a loaded 2-core machine, and many more
    /// under the sanitizers: a readiness wait is a condition with a generous bound, not a guess.
    public func becomesReady(timeout: Double = 60, _ ready: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if ready() { return true }
            if wait(timeout: 0) != nil { return false }
            usleep(80_000)
        } while Date() < deadline
        return ready()
    }

    /// SIGTERM, then SIGKILL if it has not gone after `grace` seconds; always reaps it.
    public func stop(grace: Double = 5) {
        guard exitStatus == nil else { return }
        kill(pid, SIGTERM)
        if wait(timeout: grace) == nil {
            kill(pid, SIGKILL)
            wait(timeout: 5)
        }
    }

    deinit { stop(grace: 1) }
}
