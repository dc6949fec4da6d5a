import ChikayaCore
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Counts thread-local destructors that have finished; written from the C destructor below.
private let destructorsFinished = Atomic<Int>(0)

/// A thread-local slot whose destructor is slow, like a library's cleanup at thread end.
private let slowSlot: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { _ in
        usleep(200_000)
        destructorsFinished.add(1, ordering: .sequentiallyConsistent)
    }
    return key
}()

/// The runner hands control back only when its threads have ended, thread-local destructors
/// included: a process that exits while a thread is still ending aborted in libkrb5 once.
struct ServiceRunnerTests {
    @Test func runReturnsAfterEveryThreadHasEndedItsThreadLocalCleanup() {
        let before = destructorsFinished.load(ordering: .sequentiallyConsistent)
        let runner = ServiceRunner(name: "test", loops: 3, grace: 30,
                                   logger: Logger(level: .error, component: "test"))
        let ran = Atomic<Int>(0)
        let clean = runner.run { _ in
            pthread_setspecific(slowSlot, UnsafeRawPointer(bitPattern: 1))
            ran.add(1, ordering: .sequentiallyConsistent)
        }
        #expect(clean)
        #expect(ran.load(ordering: .sequentiallyConsistent) == 3)
        #expect(destructorsFinished.load(ordering: .sequentiallyConsistent) - before == 3)
    }
}
