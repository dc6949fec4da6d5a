import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// scripts/peers/inbound_mta.py on a port of the test's own: an MTA that pipes every message it
/// receives into `chikaya mail-in --sender … --recipient …`, answering 451 on exit 75.
final class InboundMTA {
    let port: Int
    let log: String
    let configuration: SMTPConfiguration
    private var child: SpawnedProcess?

    init(environment: [String: String]) throws {
        port = try TestCluster.freePort()
        configuration = try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)?tls=none", caFile: nil)
        log = NSTemporaryDirectory() + "chikaya-inbound-mta-\(UUID().uuidString).log"
        let python = ProcessInfo.processInfo.environment["CHIKAYA_TEST_PYTHON"] ?? "python3"
        let script = ChikayaBinary.repositoryRoot().appendingPathComponent("scripts/peers/inbound_mta.py").path
        // env(1) hands the test database and the inbound secret to the MTA, and so to mail-in.
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        child = try SpawnedProcess(["/usr/bin/env"] + assignments + [python, script, "--port", String(port),
                                                                     "--chikaya", ChikayaBinary.locate().path, "--log", log],
                                   outputPath: log + ".out")
        let configuration = configuration
        if child?.becomesReady(timeout: 60, { (try? SMTPConnection(configuration: configuration, tls: TLSContext(caFile: nil)))?.close() != nil }) == true {
            return
        }
        throw TestCluster.CommandFailed(description: "the inbound MTA did not start on port \(port)")
    }

    /// Sends one message; returns the server's final reply code (250, 451, 554).
    func send(from sender: String, to recipient: String, _ message: String) throws -> Int {
        let connection = try SMTPConnection(configuration: configuration, tls: TLSContext(caFile: nil))
        defer { connection.close() }
        let data = Array(message.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
        do {
            return try connection.send(Envelope(sender: sender, recipients: [recipient]), data: data).code
        } catch {
            guard let reply = error.reply else { throw error }
            return reply.code
        }
    }

    deinit {
        child?.stop()
        try? FileManager.default.removeItem(atPath: log)
        try? FileManager.default.removeItem(atPath: log + ".out")
    }
}

@Suite("mail-in behind a real SMTP server: reply round trip, forgeries, DSN, database down (integration)",
       .enabled(if: TestDatabase.available && MaildirReceiver.available))
struct InboundSMTPIntegrationTests {
    @Test("the office answers 'résolu' to the assignment email it received; strangers and forged tokens change nothing")
    func roundTrip() throws {
        let fixture = try InboundFixture("insmtp")
        defer { fixture.drop() }
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        try fixture.routing.expectSuccess(["notifier", "--drain"], environment: [
            "CHIKAYA_SMTP_URL": receiver.smtpURL, "CHIKAYA_MAIL_FROM": "Ville de Casablanca <notifications@casablanca.ma>",
        ])
        let raw = receiver.rawMessages()
        let assignment = try #require(raw.first { MaildirReceiver.header("To", in: $0)?.contains(InboundFixture.office) == true })
        let citizenEmail = try #require(raw.first { MaildirReceiver.header("To", in: $0)?.contains(InboundFixture.citizen) == true })

        // What the notifier put on the wire: signed return paths, the reply address, unsubscribe.
        let replyTo = try #require(MaildirReceiver.header("Reply-To", in: assignment))
        #expect(replyTo.hasPrefix("reply+\(fixture.reference)-") && replyTo.hasSuffix("@\(InboundFixture.domain)"))
        let citizenReturnPath = try #require(MaildirReceiver.header("X-MailFrom", in: citizenEmail))
        #expect(citizenReturnPath.hasPrefix("bounces+"))
        #expect(MaildirReceiver.header("List-Unsubscribe", in: citizenEmail)?.hasPrefix("<mailto:unsubscribe+") == true)
        #expect(MaildirReceiver.header("List-Unsubscribe", in: assignment) == nil)

        let mta = try InboundMTA(environment: fixture.routing.environment)
        let subject = MaildirReceiver.header("Subject", in: assignment) ?? ""
        let original = MaildirReceiver.header("Message-ID", in: assignment) ?? "<none@x>"
        func reply(from sender: String, to address: String, _ body: String) -> String {
            """
            From: Bureau <\(sender)>
            To: \(address)
            Subject: Re: \(subject)
            In-Reply-To: \(original)
            Message-ID: <\(UUID().uuidString)@casablanca.ma>
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 8bit

            \(body)

            Le mar. 5 mars 2024 à 14:03, Ville de Casablanca <notifications@casablanca.ma> a écrit :
            > Nouvelle réclamation \(fixture.reference)
            """
        }
        // A stranger and a forged tag first: the MTA accepts (no backscatter), nothing moves.
        #expect(try mta.send(from: "someone@example.net", to: replyTo, reply(from: "someone@example.net", to: replyTo, "résolu")) == 250)
        var forged = Array(replyTo)
        let at = forged.firstIndex(of: "@")!
        forged[at - 2] = forged[at - 2] == "a" ? "b" : "a"
        #expect(try mta.send(from: InboundFixture.office, to: String(forged), reply(from: InboundFixture.office, to: String(forged), "résolu")) == 250)
        #expect(try fixture.status() == "assigned")

        let before: Int = try fixture.db.query("SELECT count(*)::int FROM notifications WHERE recipient_kind = 'citizen'").single().decode(0)
        #expect(try mta.send(from: InboundFixture.office, to: replyTo,
                             reply(from: InboundFixture.office, to: replyTo, "Résolu\nLes bacs ont été vidés ce matin.")) == 250)
        #expect(try fixture.status() == "resolved")
        let event = try fixture.db.query("""
            SELECT e.actor, e.note FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
            WHERE c.reference = $1 ORDER BY e.id DESC LIMIT 1
            """, [fixture.reference]).single()
        #expect(try event.decode(0, as: String.self) == InboundFixture.office)
        #expect(try event.decode(1, as: String?.self) == "Les bacs ont été vidés ce matin.")
        let after: Int = try fixture.db.query("SELECT count(*)::int FROM notifications WHERE recipient_kind = 'citizen'").single().decode(0)
        #expect(after == before + 1, "the citizen's 'resolved' email is queued")
        let outcomes = try fixture.db.query("SELECT outcome FROM inbound_messages ORDER BY id").rows.map { try $0.decode(0, as: String.self) }
        #expect(outcomes == ["ignored", "refused", "applied"])
    }

    @Test("a DSN for a citizen email suppresses the address; with the database down the MTA gets 451 and the retry is handled")
    func bounceAndOutage() throws {
        let fixture = try InboundFixture("insmtpdsn")
        defer { fixture.drop() }
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        try fixture.routing.expectSuccess(["notifier", "--drain"], environment: ["CHIKAYA_SMTP_URL": receiver.smtpURL])
        let citizenEmail = try #require(receiver.rawMessages().first {
            MaildirReceiver.header("To", in: $0)?.contains(InboundFixture.citizen) == true
        })
        let returnPath = try #require(MaildirReceiver.header("X-MailFrom", in: citizenEmail))
        let dsn = fixture.dsn(to: returnPath, failed: InboundFixture.citizen, status: "5.1.1")

        var down = fixture.routing.environment
        down["DATABASE_URL"] = "postgresql://chikaya@127.0.0.1:1/none"
        let broken = try InboundMTA(environment: down)
        #expect(try broken.send(from: "", to: returnPath, dsn) == 451)
        #expect(try fixture.db.query("SELECT count(*)::int FROM suppressed_addresses").single().decode(0, as: Int.self) == 0)

        let mta = try InboundMTA(environment: fixture.routing.environment)
        #expect(try mta.send(from: "", to: returnPath, dsn) == 250)
        #expect(try fixture.db.query("SELECT reason FROM suppressed_addresses WHERE address = $1", [InboundFixture.citizen])
            .single().decode(0, as: String.self) == "bounce")
        try fixture.routing.expectSuccess(["complaints", "set-status", fixture.reference, "in_progress"])
        let next = try fixture.db.query("""
            SELECT status FROM notifications WHERE recipient_kind = 'citizen' ORDER BY id DESC LIMIT 1
            """).single().decode(0, as: String.self)
        #expect(next == "suppressed")
        // Nothing more reaches the citizen.
        try fixture.routing.expectSuccess(["notifier", "--drain"], environment: ["CHIKAYA_SMTP_URL": receiver.smtpURL])
        #expect(receiver.rawMessages().filter { MaildirReceiver.header("To", in: $0)?.contains(InboundFixture.citizen) == true }.count == 1)
    }
}

extension InboundSMTPIntegrationTests {
    @Test("the office hears back: 'résolu' confirmed, a command it cannot apply and a note without command refused with the reason; a stranger hears nothing")
    func officeIsAnswered() throws {
        let fixture = try InboundFixture("inanswer")
        defer { fixture.drop() }
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        let from = ["CHIKAYA_SMTP_URL": receiver.smtpURL, "CHIKAYA_MAIL_FROM": "Ville de Casablanca <notifications@casablanca.ma>"]
        try fixture.routing.expectSuccess(["notifier", "--drain"], environment: from)
        let assignment = try #require(receiver.rawMessages().first { MaildirReceiver.header("To", in: $0)?.contains(InboundFixture.office) == true })
        let replyTo = try #require(MaildirReceiver.header("Reply-To", in: assignment))
        let mta = try InboundMTA(environment: fixture.routing.environment)
        var sent: [String: String] = [:]  // Message-ID -> what it said
        func send(from sender: String, _ body: String) throws -> Int {
            let id = "<\(UUID().uuidString.lowercased())@bureau.casablanca.ma>"
            sent[id] = body
            return try mta.send(from: sender, to: replyTo, """
                From: Bureau <\(sender)>
                To: \(replyTo)
                Subject: Re: réclamation \(fixture.reference)
                Message-ID: \(id)
                Content-Type: text/plain; charset=utf-8
                Content-Transfer-Encoding: 8bit

                \(body)

                Le mar. 5 mars 2024 à 14:03, Ville de Casablanca <notifications@casablanca.ma> a écrit :
                > Nouvelle réclamation \(fixture.reference)
                """)
        }
        #expect(try send(from: InboundFixture.office, "Résolu\nLes bacs ont été vidés.") == 250)
        #expect(try fixture.status() == "resolved")
        // Resolved: its department cannot change until it is reopened.
        #expect(try send(from: InboundFixture.office, "réaffecter voirie") == 250)
        #expect(try send(from: InboundFixture.office, "Bonjour, qui s'en occupe ?") == 250)
        #expect(try send(from: "someone@example.net", "résolu") == 250)
        #expect(try fixture.status() == "resolved")

        let before = Set(receiver.rawMessages())
        try fixture.routing.expectSuccess(["notifier", "--drain"], environment: from)
        let answers = try receiver.decodedMessages().filter { !before.contains($0["raw"] ?? "") && $0["Subject"]?.hasPrefix("Commande") == true }
        #expect(answers.count == 3, "\(answers.map { $0["Subject"] ?? "-" })")
        #expect(answers.allSatisfy { $0["To"]?.contains(InboundFixture.office) == true }, "answers go to the office only")
        let toStranger = try receiver.decodedMessages().filter { $0["To"]?.contains("someone@example.net") == true }
        #expect(toStranger.isEmpty, "no backscatter")
        func answer(to body: String) -> [String: String]? {
            guard let id = sent.first(where: { $0.value == body })?.key else { return nil }
            return answers.first { $0["In-Reply-To"] == id }
        }
        let applied = try #require(answer(to: "Résolu\nLes bacs ont été vidés."))
        #expect(applied["Subject"] == "Commande appliquée — réclamation \(fixture.reference)")
        #expect(applied["text"]?.contains("la réclamation est maintenant « résolue » (elle était « affectée »)") == true, "\(applied["text"] ?? "")")
        #expect(applied["raw"]?.contains("Auto-Submitted: auto-generated") == true)
        let notAllowed = try #require(answer(to: "réaffecter voirie"))
        #expect(notAllowed["Subject"] == "Commande refusée — réclamation \(fixture.reference)")
        #expect(notAllowed["text"]?.contains("« résolue » : cette commande n'est pas possible") == true, "\(notAllowed["text"] ?? "")")
        let noCommand = try #require(answer(to: "Bonjour, qui s'en occupe ?"))
        #expect(noCommand["text"]?.contains("aucune commande reconnue") == true)
        #expect(noCommand["text"]?.contains("en cours, résolu, rejeté: motif") == true)
        // No citizen data in an answer.
        let withCitizen = answers.filter { ($0["raw"] ?? "").contains(InboundFixture.citizen) }
        #expect(withCitizen.isEmpty)
    }

    @Test("an office address that bounces: the triage cell is told once, not per bounce")
    func bouncingOfficeAlertsTriageOnce() throws {
        let fixture = try InboundFixture("inalert")
        defer { fixture.drop() }
        let triage = "cellule.tri@casablanca.ma"
        try fixture.routing.expectSuccess(["departments", "set-contact", "triage", triage])
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        let mta = try InboundMTA(environment: fixture.routing.environment)
        let office = try fixture.notificationID(kind: "department")
        let returnPath = fixture.addressing.address(.bounce, value: String(office))
        for _ in 0..<2 {
            #expect(try mta.send(from: "", to: returnPath, fixture.dsn(to: returnPath, failed: InboundFixture.office, status: "5.1.1")) == 250)
        }
        let alerts = try fixture.db.query("SELECT recipient, template FROM notifications WHERE template = 'office_bounced'").rows
        #expect(alerts.count == 1)
        #expect(try alerts.first?.decode(0, as: String.self) == triage)
        let check = try fixture.routing.run(["departments", "check"])
        #expect(check.stdout.contains(InboundFixture.office), "\(check.stdout)")

        try fixture.routing.expectSuccess(["notifier", "--drain"], environment: ["CHIKAYA_SMTP_URL": receiver.smtpURL])
        let told = try receiver.decodedMessages().filter { $0["To"]?.contains(triage) == true }
        #expect(told.count == 1)
        #expect(told.first?["Subject"]?.contains(InboundFixture.office) == true)
        #expect(told.first?["text"]?.contains("5.1.1") == true)
        #expect(told.first?["text"]?.contains("chikaya suppressions remove \(InboundFixture.office)") == true)
        let alertText = told.first?["raw"] ?? ""
        #expect(!alertText.contains(InboundFixture.citizen), "no citizen data in the alert")
        // Nothing more is ever sent to the office that bounces.
        #expect(try fixture.db.query("""
            SELECT count(*)::int FROM notifications WHERE recipient = $1 AND status = 'pending'
            """, [InboundFixture.office]).single().decode(0, as: Int.self) == 0)
    }
}
