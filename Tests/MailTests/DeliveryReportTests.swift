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

    /// The wider collection: one message per MTA shape, as each documents or is known to write
    /// them, with CR, LF and CRLF line ends (Tests/Fixtures/README.md).
    struct Expected: Sendable, CustomTestStringConvertible {
        let file: String
        let format: String
        let recipients: [String]
        let statuses: [String]
        let permanent: [Bool]
        var originalMessageID: String? = nil
        var diagnostic: String? = nil
        var originalRecipient: String? = nil
        var testDescription: String { file }
    }

    static let collection: [Expected] = [
        Expected(file: "postfix-delay-cr.eml", format: "rfc3464", recipients: ["bureau.maarif@slow.example.ma"],
                 statuses: ["4.4.1"], permanent: [false], originalMessageID: "<n2001.cc-2026-000301@casablanca.ma>",
                 diagnostic: "Connection timed out"),
        Expected(file: "postfix-relayed.eml", format: "rfc3464", recipients: [], statuses: [], permanent: []),
        Expected(file: "sendmail-dsn-crlf.eml", format: "rfc3464", recipients: ["etudiant.parti@univ.example.edu"],
                 statuses: ["5.1.1"], permanent: [true], originalMessageID: "<n2003.cc-2026-000302@casablanca.ma>",
                 diagnostic: "User unknown"),
        Expected(file: "sendmail-warning.eml", format: "sendmail", recipients: ["lent@old.example.net"],
                 statuses: ["4.4.1"], permanent: [false], originalMessageID: "<n2004.cc-2026-000303@casablanca.ma>",
                 diagnostic: "Connection timed out"),
        Expected(file: "exim-alias-timeout.eml", format: "exim",
                 recipients: ["agent.reel@example.org", "ancien@unreachable.example.org"],
                 statuses: ["5.2.1", "5.0.0"], permanent: [true, true], originalMessageID: "<n2005.cc-2026-000304@casablanca.ma>",
                 diagnostic: "mailbox disabled", originalRecipient: "bureau.ain-chock@example.org"),
        Expected(file: "exchange-2010-crlf.eml", format: "exchange", recipients: ["voirie.anfa@wilaya.example.ma"],
                 statuses: ["5.1.1"], permanent: [true], originalMessageID: "<n2006.cc-2026-000305@casablanca.ma>",
                 diagnostic: "RESOLVER.ADR.RecipNotFound"),
        Expected(file: "office365-report-crlf.eml", format: "rfc3464", recipients: ["bureau.sidi-belyout@contoso.example"],
                 statuses: ["5.1.10"], permanent: [true], originalMessageID: "<n2007.cc-2026-000306@casablanca.ma>",
                 diagnostic: "RecipientNotFound"),
        Expected(file: "gmail-report.eml", format: "rfc3464", recipients: ["personne.ici@example-mail.ma"],
                 statuses: ["5.1.1"], permanent: [true], originalMessageID: "<n2008.cc-2026-000307@casablanca.ma>",
                 diagnostic: "User unknown in local recipient table"),
        Expected(file: "yahoo-two-crlf.eml", format: "yahoo", recipients: ["absent.2019@yahoo.fr", "plein@yahoo.fr"],
                 statuses: ["5.0.0", "5.0.0"], permanent: [true, true], originalMessageID: "<n2009.cc-2026-000308@casablanca.ma>",
                 diagnostic: "This user doesn't have a yahoo.fr account"),
        Expected(file: "qmail-timeout.eml", format: "qmail",
                 recipients: ["injoignable@lointain.example.ma", "ferme@vieux.example.ma"],
                 statuses: ["4.4.1", "5.0.0"], permanent: [false, true], originalMessageID: "<n2010.cc-2026-000309@casablanca.ma>",
                 diagnostic: "in the queue too long"),
        Expected(file: "dsn-packed.eml", format: "rfc3464", recipients: ["un@example.ma", "deux@example.ma"],
                 statuses: ["5.1.1", "4.2.2"], permanent: [true, false], diagnostic: "unknown user"),
    ]

    @Test(arguments: collection) func widerCollection(_ expected: Expected) throws {
        let report = try report(expected.file)
        #expect(report.format == expected.format)
        #expect(report.failures.map(\.recipient) == expected.recipients)
        #expect(report.failures.map { $0.status ?? "-" } == expected.statuses)
        #expect(report.failures.map(\.permanent) == expected.permanent)
        if let id = expected.originalMessageID { #expect(report.originalMessageID == id) }
        if let diagnostic = expected.diagnostic {
            #expect(report.failures.first?.diagnostic?.contains(diagnostic) == true, "\(report.failures.first?.diagnostic ?? "nil")")
        }
        if let original = expected.originalRecipient { #expect(report.failures.first?.originalRecipient == original) }
    }

    /// Whatever the line ends, the same message reads the same.
    @Test(arguments: ["dsn-postfix.eml", "exim-alias-timeout.eml", "qmail-timeout.eml", "office365-report-crlf.eml",
                      "sendmail-dsn-crlf.eml"])
    func lineEndsDoNotMatter(_ file: String) throws {
        let raw = try InboundFixtures.bytes(file)
        var lf: [UInt8] = []
        for (index, byte) in raw.enumerated() {
            if byte == 13 { if index + 1 < raw.count, raw[index + 1] == 10 { continue }; lf.append(10) } else { lf.append(byte) }
        }
        func variant(_ eol: [UInt8]) -> [UInt8] { lf.flatMap { $0 == 10 ? eol : [$0] } }
        let reports = try [[10], [13], [13, 10]].map { eol in
            try #require(DeliveryReportParser.parse(try MIMEParser().parse(variant(eol))))
        }
        for report in reports {
            #expect(report.format == reports[0].format)
            #expect(report.failures == reports[0].failures)
            #expect(report.originalMessageID == reports[0].originalMessageID)
        }
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

/// Bounces arrive cut short, re-encoded and mangled by the mail systems they crossed: whatever
/// is left of a fixture, the parser and the report reader give an answer or nothing, never a crash.
@Suite struct DeliveryReportRobustnessTests {
    /// A small deterministic generator (SplitMix64), so a failure can be replayed.
    struct Mixer {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: InboundFixtures.directory.path)) ?? []
        return names.filter { $0.hasSuffix(".eml") }.sorted()
    }()

    @Test func everyFixtureIsReadWhole() {
        #expect(Self.files.count >= 27)
    }

    @Test(arguments: files) func truncatedAndMangledCopiesNeverCrash(_ file: String) throws {
        let raw = try InboundFixtures.bytes(file)
        var mixer = Mixer(state: UInt64(truncatingIfNeeded: file.utf8.reduce(5381) { $0 &* 33 &+ Int($1) }))
        var variants: [[UInt8]] = []
        for cut in stride(from: 0, to: raw.count, by: max(1, raw.count / 40)) { variants.append(Array(raw[..<cut])) }
        for _ in 0..<40 {
            var copy = raw
            // Bytes that matter to the parsers: line ends, colons, boundaries' dashes, brackets, high bytes.
            let bytes: [UInt8] = [13, 10, 58, 45, 60, 62, 59, 61, 0, 0xFF, 0xC3, 32]
            for _ in 0..<(1 + Int(mixer.next() % 8)) where !copy.isEmpty {
                copy[Int(mixer.next() % UInt64(copy.count))] = bytes[Int(mixer.next() % UInt64(bytes.count))]
            }
            variants.append(copy)
        }
        var parsed = 0
        for variant in variants {
            guard let message = try? MIMEParser().parse(variant) else { continue }
            parsed += 1
            if let report = DeliveryReportParser.parse(message) {
                #expect(report.failures.allSatisfy { $0.status.map { ["2", "4", "5"].contains($0.prefix(1)) } ?? true })
            }
        }
        #expect(parsed > 0, "every variant of \(file) was refused")
    }
}
