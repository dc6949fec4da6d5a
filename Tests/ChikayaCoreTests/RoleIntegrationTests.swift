import Foundation
import Postgres
import Testing
import TestSupport

/// Each role, through a real login of its own (`CREATE ROLE ... LOGIN IN ROLE chikaya_...`):
/// what it can do, and that what it must not do fails with 42501 or finds no rows.
@Suite("Roles: least privilege with real logins (integration)", .enabled(if: TestDatabase.available))
struct RoleIntegrationTests {
    /// A migrated database with the shipped rules, and a login per role; dropped together.
    final class Setup {
        let fixture: RoutingFixture
        var logins: [String: TestLogin] = [:]

        init(_ label: String, roles: [String], extraEnvironment: [String: String] = [:]) throws {
            fixture = try RoutingFixture(label, extraEnvironment: extraEnvironment)
            for role in roles {
                let group = role.hasPrefix("staff") ? "staff" : role
                logins[role] = try TestLogin(role, in: ["chikaya_\(group)"])
            }
        }

        deinit {
            fixture.database.drop()
            logins.values.forEach { $0.drop() }
        }

        func login(_ role: String) -> TestLogin { logins[role]! }

        func connect(_ role: String) throws -> PostgresConnection { try login(role).connect(fixture.database) }

        func environment(_ role: String) -> [String: String] { ["DATABASE_URL": login(role).url(for: fixture.database)] }

        /// Runs chikaya as `role`'s login.
        func run(_ role: String, _ arguments: [String]) throws -> ChikayaBinary.Outcome {
            try fixture.chikaya.run(arguments, environment: fixture.environment.merging(environment(role)) { $1 })
        }

        @discardableResult
        func expectSuccess(_ role: String, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> ChikayaBinary.Outcome {
            let outcome = try run(role, arguments)
            #expect(outcome.status == 0, "chikaya \(arguments.joined(separator: " ")) as \(role) exited \(outcome.status): \(outcome.stderr)",
                    sourceLocation: sourceLocation)
            return outcome
        }

        /// Submits complaints through the intake login: one line per (text, arrondissement, email).
        func submit(_ complaints: [(String, String, String)]) throws -> [String] {
            var tsv = "id\tlang\tarrondissement\tdepartment\ttext\temail\tname\tphone\n"
            for (i, (text, arrondissement, email)) in complaints.enumerated() {
                let name = email.isEmpty ? "" : "Citoyen \(i)"
                let phone = email.isEmpty ? "" : "060000000\(i % 10)"
                tsv += "k\(i)\tfr\t\(arrondissement)\t\t\(text)\t\(email)\t\(name)\t\(phone)\n"
            }
            let path = NSTemporaryDirectory() + "roles-\(UUID().uuidString).tsv"
            try tsv.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let outcome = try expectSuccess("intake", ["submit", "--file", path])
            return outcome.stdout.split(separator: "\n").map(String.init)
        }
    }

    /// The statement fails with SQLSTATE 42501 (insufficient privilege or a row-level policy).
    static func expectDenied(_ sql: String, _ parameters: [(any PostgresBindable)?] = [], on db: PostgresConnection,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try db.query(sql, parameters)
            Issue.record("allowed, should be refused: \(sql)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.sqlState == "42501", "\(sql): \(error)", sourceLocation: sourceLocation)
        }
    }

    static func rows(_ sql: String, _ parameters: [(any PostgresBindable)?] = [], on db: PostgresConnection) throws -> Int {
        try db.query(sql, parameters).count
    }

    /// What no role may do: change the schema, the contacts or the rules behind the admin's back,
    /// write the audit, or read what its job does not need.
    static func expectNoSchemaOrContactChanges(on db: PostgresConnection, sourceLocation: SourceLocation = #_sourceLocation) {
        expectDenied("DROP TABLE complaints", on: db, sourceLocation: sourceLocation)
        expectDenied("CREATE TABLE intruder (x int)", on: db, sourceLocation: sourceLocation)
        expectDenied("UPDATE department_contacts SET email = 'thief@example.org'", on: db, sourceLocation: sourceLocation)
        expectDenied("INSERT INTO complaint_events (complaint_id, from_status, to_status, actor) VALUES (1, 'a', 'b', 'x')",
                     on: db, sourceLocation: sourceLocation)
        expectDenied("GRANT chikaya_admin TO CURRENT_USER", on: db, sourceLocation: sourceLocation)
    }

    @Test("intake inserts and reads back its own references, and nothing else")
    func intake() throws {
        let setup = try Setup("roleintake", roles: ["intake"])
        let references = try setup.submit([("Nid de poule avenue 1", "anfa", "a@example.org"), ("Lampe cassée", "maarif", "")])
        #expect(references.count == 2)
        #expect(references.allSatisfy { $0.hasPrefix("CC-") })
        let db = try setup.connect("intake")
        #expect(try Self.rows("SELECT id, reference FROM complaints", on: db) == 0, "other transactions' complaints are invisible")
        Self.expectDenied("SELECT citizen_email FROM complaints", on: db)
        Self.expectDenied("SELECT body FROM complaints", on: db)
        Self.expectDenied("SELECT * FROM routing_queue", on: db)
        Self.expectDenied("UPDATE complaints SET status = 'resolved'", on: db)
        Self.expectDenied("INSERT INTO complaints (body, status) VALUES ('x', 'resolved')", on: db)
        Self.expectNoSchemaOrContactChanges(on: db)
        // An attachment goes with a complaint of the same transaction only.
        let attached = try db.transaction { db in
            let id: Int64 = try db.query("INSERT INTO complaints (body) VALUES ('photo jointe') RETURNING id").single().decode(0)
            return try db.query("""
                INSERT INTO attachments (complaint_id, file_name, content_type, byte_size, storage_key)
                VALUES ($1, 'a.jpg', 'image/jpeg', 10, 'k1') RETURNING id
                """, [id]).count
        }
        #expect(attached == 1)
        let admin = try setup.fixture.database.connect()
        let earlier: Int64 = try admin.query("SELECT min(id) FROM complaints").single().decode(0)
        Self.expectDenied("INSERT INTO attachments (complaint_id, file_name, content_type, byte_size, storage_key) VALUES ($1, 'b', 'x', 1, 'k')",
                          [earlier], on: db)
        // The queue still got every complaint: the trigger writes it as its owner.
        #expect(try admin.query("SELECT count(*) FROM routing_queue").single().decode(0, as: Int.self) == 3)
    }

    @Test("worker routes end to end under its own login, recorded as router; no personal data, no contacts")
    func worker() throws {
        let setup = try Setup("roleworker", roles: ["intake", "worker"])
        _ = try setup.submit([("Les poubelles débordent rue 3", "anfa", "a@example.org"), ("الضو ديال الزنقة مطفي", "anfa", "")])
        try setup.expectSuccess("worker", ["worker", "--drain"])
        let admin = try setup.fixture.database.connect()
        #expect(try admin.query("SELECT count(*) FROM complaints WHERE status = 'assigned'").single().decode(0, as: Int.self) == 2)
        let actors = try admin.query("SELECT DISTINCT actor FROM complaint_events").rows.map { try $0.decode(0, as: String.self) }
        // One actor per routing loop (host:pid:loop); with two loops either may take a complaint.
        #expect(!actors.isEmpty)
        #expect(actors.allSatisfy { $0.hasPrefix("router:") }, "\(actors)")
        #expect(try admin.query("SELECT count(*) FROM notifications WHERE recipient_kind = 'citizen'").single().decode(0, as: Int.self) == 1)

        let db = try setup.connect("worker")
        Self.expectDenied("SELECT citizen_name FROM complaints", on: db)
        Self.expectDenied("SELECT citizen_phone FROM complaints", on: db)
        Self.expectDenied("SELECT citizen_email FROM complaints", on: db)
        Self.expectDenied("INSERT INTO rules_publications (version, source, file_name) VALUES ('x', 'x', 'x')", on: db)
        Self.expectDenied("SELECT * FROM notifications", on: db)
        Self.expectNoSchemaOrContactChanges(on: db)
        // A routed complaint is out of the worker's reach.
        #expect(try db.execute("UPDATE complaints SET status = 'resolved' WHERE status = 'assigned'") == 0)
        Self.expectDenied("INSERT INTO complaints (body) VALUES ('x')", on: db)
    }

    @Test("two staff logins of two departments see disjoint lists and act on their own complaints only")
    func staff() throws {
        let setup = try Setup("rolestaff", roles: ["intake", "worker", "admin", "staff_a", "staff_b", "staff_none"])
        let references = try setup.submit([
            ("Les poubelles débordent depuis une semaine", "anfa", "p1@example.org"),
            ("Les poubelles ne sont pas ramassées", "maarif", ""),
            ("Lampadaire éteint depuis un mois, la rue est noire", "anfa", "e1@example.org"),
        ])
        try setup.expectSuccess("worker", ["worker", "--drain"])
        let admin = try setup.fixture.database.connect()
        let departments = try admin.query("SELECT reference, department FROM complaints ORDER BY id").rows
            .map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self)) }
        #expect(departments.map(\.1) == ["proprete", "proprete", "eclairage"], "\(departments)")
        let a = setup.login("staff_a").name, b = setup.login("staff_b").name
        try setup.expectSuccess("admin", ["staff", "add", a, "--department", "proprete"])
        try setup.expectSuccess("admin", ["staff", "add", b, "--department", "eclairage"])
        let listed = try setup.expectSuccess("admin", ["staff", "list"]).stdout
        #expect(listed.contains(a) && listed.contains(b))

        func visible(_ role: String) throws -> Set<String> {
            let out = try setup.expectSuccess(role, ["complaints", "list", "--format", "tsv"]).stdout
            return Set(out.split(separator: "\n").dropFirst().compactMap { $0.split(separator: "\t").first.map(String.init) })
        }
        let seenByA = try visible("staff_a"), seenByB = try visible("staff_b")
        #expect(seenByA == Set(references[0...1]))
        #expect(seenByB == [references[2]])
        #expect(seenByA.isDisjoint(with: seenByB))
        #expect(try visible("staff_none").isEmpty, "a login with no assignment sees nothing")

        // Personal data: of its own complaints only.
        let dbA = try setup.connect("staff_a")
        #expect(try dbA.query("SELECT citizen_email FROM complaints WHERE reference = $1", [references[0]]).single()
            .decode(0, as: String?.self) == "p1@example.org")
        #expect(try Self.rows("SELECT citizen_email FROM complaints WHERE reference = $1", [references[2]], on: dbA) == 0)
        #expect(try Self.rows("SELECT * FROM notifications WHERE recipient = 'e1@example.org'", on: dbA) == 0)
        #expect(try Self.rows("SELECT * FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id WHERE c.reference = $1",
                              [references[2]], on: dbA) == 0)

        // Status changes: its own, recorded under its login whatever it claims; another's is unknown to it.
        try dbA.transaction { db in
            try db.query("SELECT set_config('chikaya.actor', 'the-mayor', true)")
            #expect(try db.execute("UPDATE complaints SET status = 'in_progress' WHERE reference = $1", [references[0]]) == 1)
        }
        #expect(try admin.query("""
            SELECT e.actor FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
            WHERE c.reference = $1 ORDER BY e.id DESC LIMIT 1
            """, [references[0]]).single().decode(0, as: String.self) == a)
        #expect(try dbA.execute("UPDATE complaints SET status = 'in_progress' WHERE reference = $1", [references[2]]) == 0)
        let other = try setup.run("staff_a", ["complaints", "set-status", references[2], "in_progress"])
        #expect(other.status == 65)
        #expect(other.stderr.contains("no complaint has the reference"))
        let mine = try setup.expectSuccess("staff_a", ["complaints", "set-status", references[1], "resolved"])
        #expect(mine.stdout.contains("-> resolved"))
        Self.expectDenied("UPDATE complaints SET department = 'voirie' WHERE reference = $1", [references[0]], on: dbA)
        Self.expectDenied("UPDATE complaints SET citizen_email = 'x@example.org'", on: dbA)
        Self.expectDenied("INSERT INTO staff_assignments (login, department) VALUES (CURRENT_USER, 'voirie')", on: dbA)
        Self.expectDenied("DELETE FROM complaints", on: dbA)
        Self.expectNoSchemaOrContactChanges(on: dbA)

        // Reassigning its own complaint elsewhere: allowed, and then it is gone from its list.
        try setup.expectSuccess("staff_a", ["complaints", "reassign", references[0], "eclairage", "--note", "wrong department"])
        #expect(try visible("staff_a") == [references[1]])
        #expect(try visible("staff_b") == Set([references[0], references[2]]))
        let reassigned = try setup.run("staff_a", ["complaints", "reassign", references[2], "proprete", "--note", "mine now"])
        #expect(reassigned.status == 65, "another department's complaint cannot be pulled over: \(reassigned.stderr)")

        // Arrondissement-scoped assignment.
        try setup.expectSuccess("admin", ["staff", "add", setup.login("staff_none").name, "--department", "eclairage", "--arrondissement", "maarif"])
        #expect(try visible("staff_none").isEmpty)
        try setup.expectSuccess("admin", ["staff", "add", setup.login("staff_none").name, "--department", "eclairage", "--arrondissement", "anfa"])
        #expect(try visible("staff_none") == Set([references[0], references[2]]))
        try setup.expectSuccess("admin", ["staff", "remove", b, "--department", "eclairage"])
        #expect(try visible("staff_b").isEmpty)
        #expect(try admin.query("SELECT count(*) FROM staff_assignment_changes WHERE actor = $1", [setup.login("admin").name])
            .single().decode(0, as: Int.self) == 5)
    }

    @Test("staff of triage see and route the complaints in triage")
    func triage() throws {
        let setup = try Setup("roletriage", roles: ["intake", "worker", "admin", "staff_t"])
        let references = try setup.submit([("bonjour, je voudrais savoir quelque chose", "anfa", "")])
        try setup.expectSuccess("worker", ["worker", "--drain"])
        let admin = try setup.fixture.database.connect()
        #expect(try admin.query("SELECT department FROM complaints").single().decode(0, as: String.self) == "triage")
        try setup.expectSuccess("admin", ["staff", "add", setup.login("staff_t").name, "--department", "triage"])
        #expect(try setup.expectSuccess("staff_t", ["complaints", "list", "--format", "tsv"]).stdout.contains(references[0]))
        try setup.expectSuccess("staff_t", ["complaints", "reassign", references[0], "voirie", "--note", "route"])
        #expect(try admin.query("SELECT department FROM complaints").single().decode(0, as: String.self) == "voirie")
        #expect(!(try setup.expectSuccess("staff_t", ["complaints", "list", "--format", "tsv"]).stdout.contains(references[0])))
    }

    @Test("admin manages rules, contacts and assignments, recorded under its login; no personal data, no complaints")
    func admin() throws {
        let setup = try Setup("roleadmin", roles: ["admin"])
        let login = setup.login("admin").name
        try setup.expectSuccess("admin", ["departments", "set-contact", "voirie", "voirie@example.org", "--note", "new office"])
        let draft = NSTemporaryDirectory() + "rules-\(UUID().uuidString).conf"
        let shipped = try String(contentsOf: ChikayaBinary.repositoryRoot().appendingPathComponent("config/routing-rules.conf"), encoding: .utf8)
        try shipped.replacingOccurrences(of: "[circulation]\n", with: "[circulation]\n9: zorglubisme\n")
            .write(toFile: draft, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let rules = try setup.expectSuccess("admin", ["rules", "publish", draft])
        #expect(rules.stdout.contains("published"))
        let forged = try setup.run("admin", ["rules", "publish", draft, "--author", "someone-else"])
        #expect(forged.status == 64)
        let admin = try setup.fixture.database.connect()
        #expect(try admin.query("SELECT author FROM rules_publications ORDER BY id DESC LIMIT 1").single().decode(0, as: String.self) == login)
        #expect(try admin.query("SELECT actor FROM department_contact_changes ORDER BY id DESC LIMIT 1").single().decode(0, as: String.self) == login)
        try setup.expectSuccess("admin", ["stats"])

        let db = try setup.connect("admin")
        Self.expectDenied("SELECT citizen_email FROM complaints", on: db)
        Self.expectDenied("SELECT recipient FROM notifications", on: db)
        Self.expectDenied("UPDATE complaints SET status = 'resolved'", on: db)
        Self.expectDenied("UPDATE rules_publications SET author = 'x'", on: db)
        Self.expectDenied("DELETE FROM rules_publications", on: db)
        Self.expectDenied("DELETE FROM department_contact_changes", on: db)
        Self.expectDenied("DROP TABLE complaints", on: db)
        Self.expectDenied("CREATE TABLE intruder (x int)", on: db)
        Self.expectDenied("INSERT INTO complaint_events (complaint_id, from_status, to_status, actor) VALUES (1, 'a', 'b', 'x')", on: db)
        let unknown = try setup.run("admin", ["staff", "add", "nobody_\(UInt32.random(in: 0...UInt32.max))", "--department", "voirie"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("CREATE ROLE"))
    }

    @Test("readonly computes statistics and reads no personal column")
    func readonly() throws {
        let setup = try Setup("rolereadonly", roles: ["intake", "worker", "readonly"])
        _ = try setup.submit([("Les poubelles débordent", "anfa", "a@example.org")])
        try setup.expectSuccess("worker", ["worker", "--drain"])
        let stats = try setup.expectSuccess("readonly", ["stats"])
        #expect(stats.stdout.contains("proprete"), "\(stats.stdout)")
        // The monitoring probe runs as this role: every check can read what it needs.
        let health = try setup.run("readonly", ["health"])
        #expect(!health.stdout.contains("cannot check") && !health.stdout.contains("42501"), "\(health.stdout)")
        #expect(!health.stdout.contains("skipped"), "\(health.stdout)")
        // So does the exporter of the database-wide figures.
        let metrics = try setup.expectSuccess("readonly", ["metrics"])
        #expect(metrics.stdout.contains("chikaya_complaints{status=\"assigned\""), "\(metrics.stdout)")
        // A service's own login may not read everything health looks at: those checks are
        // skipped, never reported as down.
        let asWorker = try setup.run("worker", ["health"])
        #expect(!asWorker.stdout.contains("cannot check"), "\(asWorker.stdout)")
        #expect(!asWorker.stdout.split(separator: "\n").contains { $0.hasPrefix("down") }, "\(asWorker.stdout)")
        let db = try setup.connect("readonly")
        #expect(try db.query("SELECT count(*) FROM complaints").single().decode(0, as: Int.self) == 1)
        for column in ["body", "citizen_name", "citizen_email", "citizen_phone", "notify_language"] {
            Self.expectDenied("SELECT \(column) FROM complaints", on: db)
        }
        Self.expectDenied("SELECT * FROM complaints", on: db)
        Self.expectDenied("SELECT recipient FROM notifications", on: db)
        Self.expectDenied("SELECT note FROM complaint_events", on: db)
        Self.expectDenied("SELECT actor FROM complaint_events", on: db)
        Self.expectDenied("SELECT matches FROM routing_decisions", on: db)
        Self.expectDenied("SELECT last_error FROM routing_queue", on: db)
        Self.expectDenied("UPDATE complaints SET status = 'resolved'", on: db)
        Self.expectNoSchemaOrContactChanges(on: db)
    }

    @Test("notifier sends end to end under its own login and changes no complaint, contact or rule",
          .enabled(if: MaildirReceiver.available))
    func notifier() throws {
        let receiver = try MaildirReceiver()
        try receiver.start()
        let setup = try Setup("rolenotifier", roles: ["intake", "worker", "notifier", "admin"],
                              extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url, "CHIKAYA_MAIL_FROM": "Chikaya <no-reply@chikaya.test>"])
        try setup.expectSuccess("admin", ["departments", "set-contact", "proprete", "proprete@example.org"])
        _ = try setup.submit([("Les poubelles débordent", "anfa", "a@example.org"), ("Les poubelles encore", "anfa", "")])
        try setup.expectSuccess("worker", ["worker", "--drain"])
        try setup.expectSuccess("notifier", ["notifier", "--drain"])
        let admin = try setup.fixture.database.connect()
        #expect(try admin.query("SELECT count(*) FROM notifications WHERE status = 'sent'").single().decode(0, as: Int.self) == 3)
        #expect(receiver.rawMessages().count == 3)
        try setup.expectSuccess("notifier", ["digest"])

        let db = try setup.connect("notifier")
        Self.expectDenied("UPDATE complaints SET status = 'resolved'", on: db)
        Self.expectDenied("UPDATE complaints SET department = 'voirie'", on: db)
        Self.expectDenied("INSERT INTO rules_publications (version, source, file_name) VALUES ('x', 'x', 'x')", on: db)
        Self.expectDenied("INSERT INTO notifications (complaint_id, event_id, recipient_kind, recipient, template) VALUES (1, 1, 'citizen', 'x@y', 'x')", on: db)
        Self.expectDenied("UPDATE notifications SET recipient = 'thief@example.org'", on: db)
        Self.expectNoSchemaOrContactChanges(on: db)
    }
}

/// Citizen text is hostile input on a staff terminal: escape sequences are shown, never obeyed.
@Suite("Hostile text on staff terminals (integration)", .enabled(if: TestDatabase.available))
struct HostileTextIntegrationTests {
    @Test("a complaint with ESC sequences and other controls prints no raw control byte in show, list and classify")
    func controlCharactersAreEscaped() throws {
        let fixture = try RoutingFixture("hostile")
        defer { fixture.database.drop() }
        // Retitles the window, clears the screen, fakes a line, rings; C1 CSI too. The bidi marks stay.
        let body = "Poubelles \u{1b}]0;pwned\u{07}\u{1b}[2J\rFAKE: resolved\u{9b}31m rue \u{200f}ب\u{200e}"
        let tsv = "text\temail\n\(body)\tx@example.org\n"
        let reference = try fixture.expectSuccess(["submit", "--file", "-"], stdin: tsv).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try fixture.expectSuccess(["worker", "--drain"])
        let raw = Set<UInt8>([0x1b, 0x07, 0x0d])
        func expectClean(_ outcome: ChikayaBinary.Outcome, _ what: String) {
            let bytes = Array(outcome.stdout.utf8)
            #expect(!bytes.contains(where: { raw.contains($0) }), "\(what) wrote a raw control byte")
            #expect(!outcome.stdout.unicodeScalars.contains("\u{9b}"), "\(what) wrote a raw C1 CSI")
        }
        let show = try fixture.expectSuccess(["complaints", "show", reference])
        expectClean(show, "complaints show")
        #expect(show.stdout.contains("\\x1b]0;pwned\\x07\\x1b[2J\\x0dFAKE"), "\(show.stdout)")
        #expect(show.stdout.contains("\u{200f}ب\u{200e}"), "bidi marks are kept for Arabic")
        for format in ["table", "tsv", "json"] {
            expectClean(try fixture.expectSuccess(["complaints", "list", "--format", format]), "complaints list --format \(format)")
        }
        expectClean(try fixture.expectSuccess(["classify", "--explain", body]), "classify --explain")
    }
}
