import Foundation
import Testing
@testable import Mail

/// The deadlines every socket wait is bounded by.
@Suite struct DeadlineUnitTests {
    @Test func aDeadlineNowOrPastLeavesNothing() {
        for seconds in [0, -5, -.infinity] as [Double] {
            let deadline = Deadline(secondsFromNow: seconds)
            #expect(deadline.remainingMilliseconds == 0)
            #expect(deadline.remainingSeconds == 0)
        }
    }

    @Test func aFutureDeadlineLeavesAtMostItsLength() {
        let deadline = Deadline(secondsFromNow: 10)
        #expect(deadline.remainingMilliseconds > 0 && deadline.remainingMilliseconds <= 10_000)
        #expect(deadline.remainingSeconds > 0 && deadline.remainingSeconds <= 10)
    }

    @Test func aDeadlineRunsOut() {
        let deadline = Deadline(secondsFromNow: 0.05)
        usleep(100_000)
        #expect(deadline.remainingMilliseconds == 0)
        #expect(deadline.remainingSeconds == 0)
    }

    @Test func anAbsurdLengthIsBoundedRatherThanOverflowing() {
        #expect(Deadline(secondsFromNow: 1e300).remainingMilliseconds == Int32.max)
        #expect(Deadline(secondsFromNow: .infinity).remainingSeconds > 1e8)
    }
}
