import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// A routed complaint with an office and a citizen, and the inbound secret `mail-in` checks.
struct InboundFixture {
    static let domain = "inbound.casablanca.ma"
    static let office = "bureau.proprete@casablanca.ma"
    static let citizen = "citizen0@example.org"

    let routing: RoutingFixture
    let secretFile: String
    let addressing: InboundAddressing
    let reference: String
    let db: PostgresConnection

    init(_ label: String) throws {
        let directory = NSTemporaryDirectory() + "chikaya-inbound-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        secretFile = directory + "/secret"
        let secret = (0..<32).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: secretFile))
        addressing = InboundAddressing(secret: try InboundSecret.load(path: secretFile, previousPath: nil), domain: Self.domain)
        routing = try RoutingFixture(label, extraEnvironment: ["CHIKAYA_INBOUND_SECRET_FILE": secretFile,
                                                              "CHIKAYA_INBOUND_DOMAIN": Self.domain])
        try routing.expectSuccess(["departments", "set-contact", "proprete", Self.office])
        try routing.submitAndRoute(count: 1)  // complaint 0: "Les poubelles débordent", with an email
        db = try routing.database.connect()
        reference = try routing.references(on: db)[0]
    }

    func drop() {
        routing.database.drop()
        try? FileManager.default.removeItem(atPath: (secretFile as NSString).deletingLastPathComponent)
    }

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `chikaya mail-in` with `message` on standard input.
    func mailIn(_ message: String, _ arguments: [String] = [], environment extra: [String: String] = [:]) throws -> Outcome {
        let input = NSTemporaryDirectory() + "mail-in-\(UUID().uuidString).eml"
        try Data(message.utf8).write(to: URL(fileURLWithPath: input))
        defer { try? FileManager.default.removeItem(atPath: input) }
        // The binary reads its standard input; a shell redirect keeps ChikayaBinary unchanged.
        let quoted = ([routing.chikaya.path, "mail-in"] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", quoted.joined(separator: " ") + " < '\(input)'"]
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in routing.environment.merging(extra, uniquingKeysWith: { $1 }) { environment[key] = value }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                                     stderr: String(decoding: stderr, as: UTF8.self))
    }

    func status() throws -> String {
        try db.query("SELECT status FROM complaints WHERE reference = $1", [reference]).single().decode(0)
    }

    func notificationID(kind: String) throws -> Int64 {
        try db.query("""
            SELECT n.id FROM notifications n JOIN complaints c ON c.id = n.complaint_id
            WHERE c.reference = $1 AND n.recipient_kind = $2 ORDER BY n.id DESC LIMIT 1
            """, [reference, kind]).single().decode(0)
    }

    func reply(from sender: String, to recipient: String, body: String) -> String {
        """
        Return-Path: <\(sender)>
        From: Bureau <\(sender)>
        To: \(recipient)
        Subject: Re: Nouvelle réclamation \(reference)
        Message-ID: <\(UUID().uuidString)@casablanca.ma>
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        \(body)

        Le mar. 5 mars 2024 à 14:03, Ville de Casablanca <notifications@casablanca.ma> a écrit :
        > Nouvelle réclamation \(reference)
        """
    }

    func dsn(to recipient: String, failed address: String, status: String) -> String {
        """
        Return-Path: <>
        From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
        To: \(recipient)
        Subject: Undelivered Mail Returned to Sender
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

        --b1
        Content-Type: text/plain

        Your message could not be delivered.

        --b1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.org

        Final-Recipient: rfc822; \(address)
        Action: failed
        Status: \(status)
        Diagnostic-Code: smtp; 550 \(status) User unknown

        --b1--
        """
    }
}

@Suite("mail-in: replies, bounces, unsubscribe, exit codes (integration)", .enabled(if: TestDatabase.available))
struct InboundMailIntegrationTests {
    @Test("an office's 'résolu' resolves the complaint as that office and queues the citizen's email")
    func officeResolves() throws {
        let fixture = try InboundFixture("inoffice")
        defer { fixture.drop() }
        #expect(try fixture.status() == "assigned")
        let address = fixture.addressing.address(.reply, value: fixture.reference)
        let message = fixture.reply(from: InboundFixture.office, to: address, body: "Résolu.\nLes bacs ont été vidés.")

        let explained = try fixture.mailIn(message, ["--explain", "--recipient", address])
        #expect(explained.status == 0, "\(explained.stderr)")
        #expect(explained.stdout.contains("kind=department_reply token=valid address=reply"))
        #expect(explained.stdout.contains("command=resolved"))
        #expect(try fixture.status() == "assigned", "--explain changes nothing")

        let outcome = try fixture.mailIn(message, ["--sender", InboundFixture.office, "--recipient", address])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try fixture.status() == "resolved")
        let event = try fixture.db.query("""
            SELECT e.actor, e.note, (SELECT count(*)::int FROM notifications n WHERE n.event_id = e.id AND n.recipient_kind = 'citizen')
            FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
            WHERE c.reference = $1 ORDER BY e.id DESC LIMIT 1
            """, [fixture.reference]).single()
        #expect(try event.decode(0, as: String.self) == InboundFixture.office)
        #expect(try event.decode(1, as: String?.self) == "Les bacs ont été vidés.")
        #expect(try event.decode(2, as: Int.self) == 1)
        let recorded = try fixture.db.query("SELECT kind, token, outcome FROM inbound_messages ORDER BY id DESC LIMIT 1").single()
        #expect(try recorded.decode(0, as: String.self) == "department_reply")
        #expect(try recorded.decode(2, as: String.self) == "applied")
        // No address, no text in the log.
        #expect(!outcome.stderr.contains(InboundFixture.office))
        #expect(!outcome.stderr.contains("bacs"))
    }

    @Test("another sender, an altered token or an unsigned address change nothing, and exit 0")
    func strangersAndForgeriesChangeNothing() throws {
        let fixture = try InboundFixture("inforged")
        defer { fixture.drop() }
        let address = fixture.addressing.address(.reply, value: fixture.reference)
        let stranger = try fixture.mailIn(fixture.reply(from: "someone@example.net", to: address, body: "résolu"),
                                          ["--sender", "someone@example.net", "--recipient", address])
        #expect(stranger.status == 0)
        var altered = Array(address)
        let at = altered.firstIndex(of: "@")!
        altered[at - 1] = altered[at - 1] == "a" ? "b" : "a"
        let forged = try fixture.mailIn(fixture.reply(from: InboundFixture.office, to: String(altered), body: "résolu"),
                                        ["--sender", InboundFixture.office, "--recipient", String(altered)])
        #expect(forged.status == 0)
        #expect(forged.stderr.contains("invalid token"))
        let otherComplaint = fixture.addressing.address(.reply, value: "CC-1999-000001")
        let unknown = try fixture.mailIn(fixture.reply(from: InboundFixture.office, to: otherComplaint, body: "résolu"),
                                         ["--recipient", otherComplaint])
        #expect(unknown.status == 0)
        #expect(try fixture.status() == "assigned")
        let outcomes = try fixture.db.query("SELECT outcome FROM inbound_messages ORDER BY id").rows.map { try $0.decode(0, as: String.self) }
        #expect(outcomes == ["ignored", "refused", "ignored"])
        let explained = try fixture.mailIn(fixture.reply(from: InboundFixture.office, to: String(altered), body: "résolu"),
                                           ["--explain", "--recipient", String(altered)])
        #expect(explained.stdout.hasPrefix("kind=other token=invalid address=reply reason=\"tag does not match\""))
    }

    @Test("a permanent DSN for a citizen email suppresses the address; the next status change sends nothing")
    func bounceSuppresses() throws {
        let fixture = try InboundFixture("inbounce")
        defer { fixture.drop() }
        let citizenNotification = try fixture.notificationID(kind: "citizen")
        let returnPath = fixture.addressing.address(.bounce, value: String(citizenNotification))
        let message = fixture.dsn(to: returnPath, failed: InboundFixture.citizen, status: "5.1.1")

        let explained = try fixture.mailIn(message, ["--explain", "--recipient", returnPath])
        #expect(explained.stdout.split(separator: "\n").map(String.init) == [
            "kind=bounce token=valid address=bounce notification=\(citizenNotification) format=rfc3464 failed=1",
            "recipient=\(InboundFixture.citizen) status=5.1.1 permanent=true action=failed diagnostic=\"550 5.1.1 User unknown\"",
        ])

        let outcome = try fixture.mailIn(message, ["--sender", "", "--recipient", returnPath])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let notification = try fixture.db.query("SELECT status, bounce_status FROM notifications WHERE id = $1",
                                                [citizenNotification]).single()
        #expect(try notification.decode(0, as: String.self) == "bounced")
        #expect(try notification.decode(1, as: String?.self) == "5.1.1")
        let suppressed = try fixture.db.query("SELECT reason, bounce_count FROM suppressed_addresses WHERE address = $1",
                                              [InboundFixture.citizen]).single()
        #expect(try suppressed.decode(0, as: String.self) == "bounce")
        #expect(try suppressed.decode(1, as: Int.self) == 1)

        try fixture.routing.expectSuccess(["complaints", "set-status", fixture.reference, "in_progress"])
        let next = try fixture.db.query("""
            SELECT status FROM notifications WHERE recipient_kind = 'citizen' ORDER BY id DESC LIMIT 1
            """).single().decode(0, as: String.self)
        #expect(next == "suppressed")
        let status = try fixture.routing.expectSuccess(["notifications", "status"])
        #expect(status.stdout.contains("citizen: 1 bounced, 1 not sent"), "\(status.stdout)")

        let listed = try fixture.routing.expectSuccess(["suppressions", "list"])
        // Administrators may not read citizens' addresses: listed masked.
        #expect(listed.stdout.contains("c***@example.org"))
        #expect(!listed.stdout.contains(InboundFixture.citizen))
        try fixture.routing.expectSuccess(["suppressions", "remove", InboundFixture.citizen])
        #expect(try fixture.routing.run(["suppressions", "remove", InboundFixture.citizen]).status == 65)
    }

    @Test("three transient bounces within a week suppress; one does not")
    func transientBouncesCount() throws {
        let fixture = try InboundFixture("intransient")
        defer { fixture.drop() }
        let id = try fixture.notificationID(kind: "citizen")
        let returnPath = fixture.addressing.address(.bounce, value: String(id))
        for attempt in 1...3 {
            let outcome = try fixture.mailIn(fixture.dsn(to: returnPath, failed: InboundFixture.citizen, status: "4.2.2"),
                                             ["--sender", "", "--recipient", returnPath])
            #expect(outcome.status == 0)
            let listed: Bool = try fixture.db.query("SELECT EXISTS (SELECT 1 FROM suppressed_addresses)").single().decode(0)
            #expect(listed == (attempt == 3), "after \(attempt) transient bounces")
        }
        #expect(try fixture.db.query("SELECT status FROM notifications WHERE id = $1", [id]).single().decode(0, as: String.self) != "bounced")
    }

    @Test("unsubscribe suppresses the citizen's address; an office cannot unsubscribe")
    func unsubscribe() throws {
        let fixture = try InboundFixture("inunsub")
        defer { fixture.drop() }
        let citizen = fixture.addressing.address(.unsubscribe, value: String(try fixture.notificationID(kind: "citizen")))
        let message = "From: \(InboundFixture.citizen)\nTo: \(citizen)\nSubject: unsubscribe\n\nunsubscribe\n"
        #expect(try fixture.mailIn(message, ["--explain", "--recipient", citizen]).stdout.hasPrefix("kind=unsubscribe token=valid"))
        #expect(try fixture.mailIn(message, ["--recipient", citizen]).status == 0)
        #expect(try fixture.db.query("SELECT reason FROM suppressed_addresses WHERE address = $1", [InboundFixture.citizen])
            .single().decode(0, as: String.self) == "unsubscribe")
        let office = fixture.addressing.address(.unsubscribe, value: String(try fixture.notificationID(kind: "department")))
        #expect(try fixture.mailIn(message, ["--recipient", office]).status == 0)
        #expect(try fixture.db.query("SELECT count(*)::int FROM suppressed_addresses").single().decode(0, as: Int.self) == 1)
    }

    @Test("database down: exit 75 and nothing lost; the MTA's retry is handled")
    func databaseDownIsTemporary() throws {
        let fixture = try InboundFixture("indown")
        defer { fixture.drop() }
        let address = fixture.addressing.address(.reply, value: fixture.reference)
        let message = fixture.reply(from: InboundFixture.office, to: address, body: "en cours")
        let down = try fixture.mailIn(message, ["--recipient", address],
                                      environment: ["DATABASE_URL": "postgresql://chikaya@127.0.0.1:1/none?connect_timeout=2"])
        #expect(down.status == 75, "\(down.stderr)")
        #expect(try fixture.status() == "assigned")
        let retry = try fixture.mailIn(message, ["--recipient", address])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try fixture.status() == "in_progress")
    }

    @Test("hostile or empty messages exit 65; a missing secret exits 75")
    func refusals() throws {
        let fixture = try InboundFixture("inrefuse")
        defer { fixture.drop() }
        var nested = ""
        for level in 0..<50 { nested += "Content-Type: multipart/mixed; boundary=\(level)\n\n--\(level)\n" }
        #expect(try fixture.mailIn(nested).status == 65)
        #expect(try fixture.mailIn("\n\n").status == 65)
        let unconfigured = try fixture.mailIn("Subject: x\n\nbody\n", [], environment: ["CHIKAYA_INBOUND_SECRET_FILE": ""])
        #expect(unconfigured.status == 75)
        #expect(unconfigured.stderr.contains("inbound_secret_file"))
    }
}

extension InboundMailIntegrationTests {
    @Test("a citizen's reply becomes a note on the complaint, forwarded to the office without changing the status")
    func citizenReplyIsForwarded() throws {
        let fixture = try InboundFixture("innote")
        defer { fixture.drop() }
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        let address = fixture.addressing.address(.reply, value: fixture.reference)
        let message = fixture.reply(from: InboundFixture.citizen, to: address, body: "Merci, mais les bacs débordent encore ce soir.")
        #expect(try fixture.mailIn(message, ["--explain", "--recipient", address]).stdout.hasPrefix("kind=citizen_reply token=valid"))
        let outcome = try fixture.mailIn(message, ["--sender", InboundFixture.citizen, "--recipient", address])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try fixture.status() == "assigned")
        let note = try fixture.db.query("SELECT author_kind, body FROM complaint_notes").single()
        #expect(try note.decode(0, as: String.self) == "citizen")
        #expect(try note.decode(1, as: String.self) == "Merci, mais les bacs débordent encore ce soir.")
        try fixture.routing.expectSuccess(["notifier", "--drain"], environment: ["CHIKAYA_SMTP_URL": receiver.smtpURL])
        let forwarded = try #require(try receiver.decodedMessages().first { $0["Subject"]?.hasPrefix("Réponse du citoyen") == true })
        #expect(forwarded["To"]?.contains(InboundFixture.office) == true)
        #expect(forwarded["text"]?.contains("les bacs débordent encore ce soir") == true)
        #expect(try fixture.db.query("SELECT status FROM notifications WHERE template = 'department_citizen_note'")
            .single().decode(0, as: String.self) == "sent")
    }
}

extension InboundMailIntegrationTests {
    @Test("without a triage address the administrator is told; once told, lifting and bouncing again tells again")
    func bouncingOfficeAlertsAdministrator() throws {
        let fixture = try InboundFixture("inadmin")
        defer { fixture.drop() }
        let office = try fixture.notificationID(kind: "department")
        let returnPath = fixture.addressing.address(.bounce, value: String(office))
        let message = fixture.dsn(to: returnPath, failed: InboundFixture.office, status: "5.1.1")
        // No triage office and no administrator: nobody to tell; the suppression waits untold.
        #expect(try fixture.mailIn(message, ["--sender", "", "--recipient", returnPath]).status == 0)
        func alerts() throws -> [String] {
            try fixture.db.query("SELECT recipient FROM notifications WHERE template = 'office_bounced' ORDER BY id").rows
                .map { try $0.decode(0, as: String.self) }
        }
        #expect(try alerts().isEmpty)
        let admin = ["CHIKAYA_ADMIN_EMAIL": "Admin.Chikaya@casablanca.ma"]
        #expect(try fixture.mailIn(message, ["--sender", "", "--recipient", returnPath], environment: admin).status == 0)
        #expect(try alerts() == ["admin.chikaya@casablanca.ma"])
        #expect(try fixture.mailIn(message, ["--sender", "", "--recipient", returnPath], environment: admin).status == 0)
        #expect(try alerts().count == 1, "told once per suppression")
        try fixture.routing.expectSuccess(["suppressions", "remove", InboundFixture.office])
        #expect(try fixture.mailIn(message, ["--sender", "", "--recipient", returnPath], environment: admin).status == 0)
        #expect(try alerts().count == 2, "suppressed anew: told anew")
        // A citizen's address that bounces is no office's: nobody is alerted.
        let citizen = fixture.addressing.address(.bounce, value: String(try fixture.notificationID(kind: "citizen")))
        #expect(try fixture.mailIn(fixture.dsn(to: citizen, failed: InboundFixture.citizen, status: "5.1.1"),
                                   ["--sender", "", "--recipient", citizen], environment: admin).status == 0)
        #expect(try alerts().count == 2)
    }
}

extension InboundMailIntegrationTests {
    @Test("complaints show lists the citizen's notes, escaped for the terminal and signed 'citizen', not with the address")
    func notesShown() throws {
        let fixture = try InboundFixture("inshow")
        defer { fixture.drop() }
        let address = fixture.addressing.address(.reply, value: fixture.reference)
        let body = "Merci.\nLes bacs débordent encore \u{1b}]0;titre\u{07}ce soir."
        #expect(try fixture.mailIn(fixture.reply(from: InboundFixture.citizen, to: address, body: body),
                                   ["--sender", InboundFixture.citizen, "--recipient", address]).status == 0)
        let shown = try fixture.routing.expectSuccess(["complaints", "show", fixture.reference]).stdout
        let lines = shown.components(separatedBy: "\n")
        let heading = try #require(lines.firstIndex(of: "notes (1)"), "\(shown)")
        #expect(lines[heading + 1].hasPrefix("  #") && lines[heading + 1].hasSuffix("  citizen:"), "\(lines[heading + 1])")
        #expect(lines[heading + 2] == "    Merci.")
        #expect(lines[heading + 3] == "    Les bacs débordent encore \\x1b]0;titre\\x07ce soir.")
        #expect(!shown.contains("\u{1b}"), "no raw escape reaches the terminal")
        // The forwarded note's notification says what it is about.
        #expect(shown.contains("note ") && shown.contains("department_citizen_note"))
    }
}

extension InboundMailIntegrationTests {
    @Test("an office working in Arabic is answered in Arabic; one that keeps writing gets at most 5 answers an hour")
    func arabicAnswersAndLoopGuard() throws {
        let fixture = try InboundFixture("inarabic")
        defer { fixture.drop() }
        try fixture.db.query("UPDATE departments SET working_language = 'ar' WHERE code = 'proprete'")
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        let address = fixture.addressing.address(.reply, value: fixture.reference)
        #expect(try fixture.mailIn(fixture.reply(from: InboundFixture.office, to: address, body: "تم الحل"),
                                   ["--sender", InboundFixture.office, "--recipient", address]).status == 0)
        #expect(try fixture.status() == "resolved")
        for _ in 0..<6 {
            #expect(try fixture.mailIn(fixture.reply(from: InboundFixture.office, to: address, body: "شكرا"),
                                       ["--sender", InboundFixture.office, "--recipient", address]).status == 0)
        }
        let answers: Int = try fixture.db.query("""
            SELECT count(*)::int FROM notifications WHERE template = 'department_command_answer'
            """).single().decode(0)
        #expect(answers == 5)
        let recorded = try fixture.db.query("SELECT detail FROM inbound_messages ORDER BY id DESC LIMIT 1").single()
        #expect(try recorded.decode(0, as: String?.self)?.contains("not answered") == true)

        try fixture.routing.expectSuccess(["notifier", "--drain"], environment: ["CHIKAYA_SMTP_URL": receiver.smtpURL])
        let mails = try receiver.decodedMessages().filter { $0["Subject"]?.contains("الشكاية \(fixture.reference)") == true }
        let applied = try #require(mails.first { $0["Subject"]?.hasPrefix("نفذ الأمر") == true })
        #expect(applied["text"]?.contains("أصبحت الشكاية «تم الحل» (كانت «مسندة»)") == true, "\(applied["text"] ?? "")")
        #expect(applied["html"]?.contains("dir=\"rtl\"") == true)
        let refused = mails.filter { $0["Subject"]?.hasPrefix("رفض الأمر") == true }
        #expect(refused.count == 4)
        #expect(refused.first?["text"]?.contains("لم نجد أمرا معروفا") == true)
    }
}

extension InboundMailIntegrationTests {
    @Test("local parts from the configuration: the notifier signs with them and mail-in reads them; the default ones are then no address of ours")
    func configuredLocalParts() throws {
        let fixture = try InboundFixture("inlocal")
        defer { fixture.drop() }
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        let parts = ["CHIKAYA_INBOUND_REPLY_LOCAL_PART": "retour", "CHIKAYA_INBOUND_BOUNCE_LOCAL_PART": "echecs"]
        try fixture.routing.expectSuccess(["notifier", "--drain"],
                                          environment: parts.merging(["CHIKAYA_SMTP_URL": receiver.smtpURL]) { $1 })
        let assignment = try #require(receiver.rawMessages().first { MaildirReceiver.header("To", in: $0)?.contains(InboundFixture.office) == true })
        let replyTo = try #require(MaildirReceiver.header("Reply-To", in: assignment))
        #expect(replyTo.hasPrefix("retour+\(fixture.reference)-"), "\(replyTo)")
        let returnPath = MaildirReceiver.header("X-MailFrom", in: assignment) ?? ""
        #expect(returnPath.hasPrefix("echecs+"), "\(returnPath)")

        let message = fixture.reply(from: InboundFixture.office, to: replyTo, body: "en cours")
        let explained = try fixture.mailIn(message, ["--explain", "--recipient", replyTo], environment: parts)
        #expect(explained.stdout.hasPrefix("kind=department_reply token=valid address=reply"), "\(explained.stdout)")
        let unconfigured = try fixture.mailIn(message, ["--explain", "--recipient", replyTo])
        #expect(unconfigured.stdout.hasPrefix("kind=other token=none"), "\(unconfigured.stdout)")
        #expect(try fixture.mailIn(message, ["--recipient", replyTo], environment: parts).status == 0)
        #expect(try fixture.status() == "in_progress")
    }
}

extension InboundMailIntegrationTests {
    @Test("an office that moves a complaint away is still answered, though the complaint is no longer its department's")
    func reassignIsAnswered() throws {
        let fixture = try InboundFixture("inmove")
        defer { fixture.drop() }
        let address = fixture.addressing.address(.reply, value: fixture.reference)
        #expect(try fixture.mailIn(fixture.reply(from: InboundFixture.office, to: address, body: "Réaffecter voirie\nLa benne est sur la chaussée."),
                                   ["--sender", InboundFixture.office, "--recipient", address]).status == 0)
        #expect(try fixture.db.query("SELECT department FROM complaints WHERE reference = $1", [fixture.reference])
            .single().decode(0, as: String.self) == "voirie")
        let answer = try fixture.db.query("""
            SELECT n.recipient, n.language, i.kind, i.command, i.detail, i.department
            FROM notifications n JOIN inbound_notices i ON i.id = n.notice_id
            """).single()
        #expect(try answer.decode(0, as: String.self) == InboundFixture.office)
        #expect(try answer.decode(2, as: String.self) == "command_accepted")
        #expect(try answer.decode(3, as: String.self) == "reassign:voirie")
        #expect(try answer.decode(4, as: String?.self) == "proprete->voirie")
        #expect(try answer.decode(5, as: String?.self) == "proprete", "in the language of the office's own department")
        // A second move by the same office is no longer its to make: ignored like a stranger's, unanswered.
        #expect(try fixture.mailIn(fixture.reply(from: InboundFixture.office, to: address, body: "réaffecter eclairage"),
                                   ["--sender", InboundFixture.office, "--recipient", address]).status == 0)
        #expect(try fixture.db.query("SELECT department FROM complaints WHERE reference = $1", [fixture.reference])
            .single().decode(0, as: String.self) == "voirie")
        #expect(try fixture.db.query("SELECT count(*)::int FROM inbound_notices").single().decode(0, as: Int.self) == 1)
        #expect(try fixture.db.query("SELECT outcome FROM inbound_messages ORDER BY id DESC LIMIT 1")
            .single().decode(0, as: String.self) == "ignored")
    }
}
