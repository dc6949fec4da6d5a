import Postgres
import Testing
@testable import ChikayaCore

/// A service whose database session crosses a network unencrypted says so once, naming the fix.
@Suite struct TransportWarningUnitTests {
    @Test func onlyPlainTCPToAnotherMachineIsWarnedAbout() {
        let warning = Database.plainTextWarning(.tcp(host: "10.0.4.17", encrypted: false))
        #expect(warning?.host == "10.0.4.17")
        #expect(warning?.setting.contains("sslmode=verify-full") == true)
        #expect(Database.plainTextWarning(.tcp(host: "db.casablanca.ma", encrypted: false)) != nil)
        #expect(Database.plainTextWarning(.tcp(host: "db.casablanca.ma", encrypted: true)) == nil)
        #expect(Database.plainTextWarning(.tcp(host: "127.0.0.1", encrypted: false)) == nil)
        #expect(Database.plainTextWarning(.tcp(host: "localhost", encrypted: false)) == nil)
        #expect(Database.plainTextWarning(.tcp(host: "::1", encrypted: false)) == nil)
        #expect(Database.plainTextWarning(.unixSocket) == nil)
    }
}
