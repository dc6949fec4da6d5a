import Testing
@testable import Mail

@Suite struct AddressTests {
    @Test(arguments: ["citizen@example.ma", "a.b+tag@sub.example.org", "x@localhost", "o'brien@example.com", "مواطن@example.ma"])
    func validAddressesPass(address: String) throws {
        try EmailAddress.validate(address)
    }

    @Test(arguments: ["", "no-at-sign", "@example.ma", "a@", "a b@example.ma", "a@exa mple.ma", "a..b@example.ma",
                      ".a@example.ma", "a@-example.ma", "a@example..ma", "a<b@example.ma", "a@example.ma\r\nRCPT TO:<x@y>",
                      "a\"b@example.ma", "a@ex_ample.ma"])
    func invalidAddressesFail(address: String) {
        #expect(throws: MIMEError.self) { try EmailAddress.validate(address) }
    }

    @Test func messageIDsUseTheSendersDomain() {
        #expect(MailboxAddress("no-reply@casablanca.ma", name: "Chikaya").messageIDDomain == "casablanca.ma")
        #expect(MailboxAddress("").messageIDDomain == "chikaya.invalid")
    }

    @Test func tooLongPartsFail() {
        #expect(throws: MIMEError.self) { try EmailAddress.validate(String(repeating: "a", count: 65) + "@example.ma") }
        #expect(throws: MIMEError.self) { try EmailAddress.validate("a@" + String(repeating: "b", count: 64) + ".ma") }
    }

    @Test func onlyNonASCIIAddressesNeedSMTPUTF8() {
        #expect(EmailAddress.requiresSMTPUTF8("مواطن@example.ma"))
        #expect(!EmailAddress.requiresSMTPUTF8("citizen@example.ma"))
    }
}
