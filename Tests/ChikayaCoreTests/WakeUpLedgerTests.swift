@testable import ChikayaCore
import Testing

/// The loops' shared record of the routing notices already answered by a claim.
@Suite struct WakeUpLedgerUnitTests {
    @Test func aNoticeSendsOneLoopToClaim() {
        let ledger = WakeUpLedger()
        #expect(ledger.take(["1001"]), "the first loop to hold it claims")
        #expect(!ledger.take(["1001"]), "the second has nothing to find")
        #expect(ledger.take(["1001", "1002"]), "one notice not yet answered is reason enough")
        #expect(!ledger.take(["1002", "1001"]))
        #expect(!ledger.take([]), "no routing notice, no claim")
    }

    @Test func aNoticeWithoutAnIdIsAlwaysAnswered() {
        let ledger = WakeUpLedger()
        #expect(ledger.take([""]))
        #expect(ledger.take([""]))
        #expect(ledger.take(["7", ""]))
        #expect(ledger.take(["7", ""]))
    }

    @Test func onlyTheLastIdsAreKept() {
        let ledger = WakeUpLedger(capacity: 3)
        for id in ["1", "2", "3", "4"] { #expect(ledger.take([id])) }
        // "1" was forgotten when "4" came: answered again, once too often at worst.
        #expect(ledger.take(["1"]))
        #expect(!ledger.take(["3"]))
        #expect(!ledger.take(["4"]))
        #expect(ledger.take(["2"]))
    }
}
