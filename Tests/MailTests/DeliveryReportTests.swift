import Foundation
import Testing
@testable import Mail

@Suite struct DeliveryReportTests {
    func report(_ name: String) throws -> DeliveryReport {
        try #require(DeliveryReportParser.parse(try InboundFixtures.parse(name)))
    }

    @Test func rfc3464ReportListsFailedAndDelayedRecipientsOnly() throws {
        let report = try report("dsn-postfix.eml")  // CRLF line ends
        #expect(report.format == "rfc3464")
        #expect(report.failures.count == 2)
        let gone = report.failures[0]
        #expect(gone.recipient == "citizen.gone@example.ma")
        #expect(gone.originalRecipient == "Citizen.Old@example.ma")
        #expect(gone.status == "5.1.1")
        #expect(gone.permanent)
        #expect(gone.action == "failed")
        #expect(gone.diagnostic?.hasPrefix("550 5.1.1 <citizen.gone@example.ma>: Recipient address rejected") == true)
        let slow = report.failures[1]
        #expect(slow.recipient == "slow@example.org")
        #expect(slow.status == "4.4.1")
        #expect(!slow.permanent)
        #expect(report.originalMessageID == "<0f8e7d6c-1042@casablanca.ma>")
    }

    @Test func qmailAndYahoo() throws {
        let qmail = try report("qmail.eml")
        #expect(qmail.format == "qmail")
        #expect(qmail.failures.map(\.recipient) == ["nobody@example.net", "full@example.net"])
        #expect(qmail.failures.map(\.status) == ["5.1.1", "5.2.2"])
        #expect(qmail.failures.allSatisfy { $0.permanent })
        #expect(qmail.originalMessageID == "<qmail-77@casablanca.ma>")

        let yahoo = try report("yahoo-cr.eml")  // CR line ends
        #expect(yahoo.format == "yahoo")
        #expect(yahoo.failures.map(\.recipient) == ["quelquun@yahoo.fr"])
        #expect(yahoo.failures.first?.status == "5.0.0")
        #expect(yahoo.failures.first?.permanent == true)
    }

    @Test func eximFailureAndDelay() throws {
        let failed = try report("exim.eml")
        #expect(failed.format == "exim")
        #expect(failed.failures.map(\.recipient) == ["ghost@example.com"])
        #expect(failed.failures.first?.status == "5.1.1")
        #expect(failed.failures.first?.permanent == true)
        #expect(failed.originalMessageID == "<exim-88@casablanca.ma>")

        let delayed = try report("exim-delay.eml")
        #expect(delayed.failures.map(\.recipient) == ["later@example.com"])
        #expect(delayed.failures.first?.status == "4.7.1")
        #expect(delayed.failures.first?.permanent == false)
    }

    @Test func olderSendmail() throws {
        let report = try report("sendmail-old.eml")
        #expect(report.format == "sendmail")
        #expect(report.failures.map(\.recipient) == ["student@old.example.edu"])
        #expect(report.failures.first?.status == "5.1.1")
        #expect(report.failures.first?.permanent == true)
    }

    @Test func exchangeAndOffice365() throws {
        let old = try report("exchange-2003.eml")
        #expect(old.format == "exchange")
        #expect(old.failures.map(\.recipient) == ["agent.parti@corp.example.ma"])
        #expect(old.failures.first?.status == "5.1.1")

        let o365 = try report("office365.eml")
        #expect(o365.format == "exchange")
        #expect(o365.failures.map(\.recipient) == ["bureau.anfa@contoso.com"])
        #expect(o365.failures.first?.status == "5.1.10")
        #expect(o365.failures.first?.diagnostic?.contains("RecipientNotFound") == true)
        #expect(o365.originalMessageID == "<o365-94@casablanca.ma>")
    }

    @Test func gmailPermanentAndHTMLDelay() throws {
        let legacy = try report("gmail-legacy.eml")
        #expect(legacy.format == "gmail")
        #expect(legacy.failures.map(\.recipient) == ["citoyen.inconnu@gmail.com"])
        #expect(legacy.failures.first?.status == "5.1.1")
        #expect(legacy.failures.first?.permanent == true)

        let html = try report("gmail-html.eml")
        #expect(html.format == "gmail")
        #expect(html.failures.map(\.recipient) == ["lent@example.ma"])
        #expect(html.failures.first?.status == "4.4.2")
        #expect(html.failures.first?.permanent == false)
    }

    @Test func unknownBounceFallsBackToFailedRecipientsHeader() throws {
        let message = try InboundFixtures.message("""
            From: Postmaster <postmaster@example.ma>
            Subject: Non remis : votre message
            X-Failed-Recipients: perdu@example.ma

            Le serveur a répondu : 550 boîte inconnue
            """)
        let report = try #require(DeliveryReportParser.parse(message))
        #expect(report.format == "generic")
        #expect(report.failures.map(\.recipient) == ["perdu@example.ma"])
        #expect(report.failures.first?.status == "5.0.0")
    }

    @Test func aPersonsMessageIsNoBounce() throws {
        let message = try InboundFixtures.parse("reply-gmail-fr.eml")
        #expect(DeliveryReportParser.parse(message) == nil)
    }

    @Test func statusScannersFindCodesAsWords() {
        #expect(TextScanning.enhancedStatus(in: "<host #5.1.1 smtp;550>") == "5.1.1")
        #expect(TextScanning.enhancedStatus(in: "version 1.5.1.2 only") == nil)
        #expect(TextScanning.enhancedStatus(in: "550 5.7.606 Access denied") == "5.7.606")
        #expect(TextScanning.smtpCode(in: "said: 452-4.2.2 full") == 452)
        #expect(TextScanning.smtpCode(in: "port 25025 and 1550") == nil)
        #expect(TextScanning.addresses(in: "To:<A.b@Example.MA>. then x@y") == ["A.b@example.ma"])
    }
}
