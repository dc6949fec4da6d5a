import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread that can be waited for. Foundation's `Thread` cannot be joined, and a service
/// must know that its threads have fully ended (thread-local destructors included) before the
/// process exits.
final class JoinableThread: @unchecked Sendable {
    // Written once by `init`, read by `join` on the creating thread only.
    private var handle = pthread_t()
    private var started = false

    /// Starts `body` on a new thread named `name`.
    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body {
            // Named from inside: Foundation names the calling thread, which shows in `top -H`.
            Thread.current.name = name
            body()
        })
        let result = pthread_create(&handle, nil, { context in
            guard let context else { return nil }
            let body = Unmanaged<Body>.fromOpaque(context).takeRetainedValue()
            body.run()
            return nil
        }, box.toOpaque())
        if result == 0 {
            started = true
        } else {
            // Without a thread of its own the body still runs: late, but nothing is skipped.
            box.release()
            body()
        }
    }

    /// Waits until the thread has ended.
    func join() {
        guard started else { return }
        started = false
        pthread_join(handle, nil)
    }

    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
