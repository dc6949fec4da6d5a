import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Department delivery against the real PostgreSQL cluster", .enabled(if: TestDatabase.available))
struct DepartmentDeliveryIntegrationTests {
    @Test("contact resolution: the arrondissement's office, else the default office, else none")
    func contactResolution() throws {
        let fixture = try RoutingFixture("deptresolve")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        #expect(try DepartmentContactStore.resolveContact(department: "proprete", arrondissement: "anfa", on: db) == nil)
        try fixture.expectSuccess(["departments", "set-contact", "proprete", "default@example.org"])
        try fixture.expectSuccess(["departments", "set-contact", "proprete", "--arrondissement", "anfa", "anfa@example.org"])
        #expect(try DepartmentContactStore.resolveContact(department: "proprete", arrondissement: "anfa", on: db) == "anfa@example.org")
        #expect(try DepartmentContactStore.resolveContact(department: "proprete", arrondissement: "maarif", on: db) == "default@example.org")
        #expect(try DepartmentContactStore.resolveContact(department: "proprete", arrondissement: nil, on: db) == "default@example.org")
        #expect(try DepartmentContactStore.resolveContact(department: "voirie", arrondissement: "anfa", on: db) == nil)
        try fixture.expectSuccess(["departments", "remove-contact", "proprete", "--arrondissement", "anfa"])
        #expect(try DepartmentContactStore.resolveContact(department: "proprete", arrondissement: "anfa", on: db) == "default@example.org")

        let unknown = try fixture.chikaya.run(["departments", "set-contact", "nowhere", "x@example.org"], environment: fixture.environment)
        #expect(unknown.status == 65)
        #expect(unknown.stderr.contains("unknown department 'nowhere'"))
        let badEmail = try fixture.chikaya.run(["departments", "set-contact", "proprete", "not-an-address"], environment: fixture.environment)
        #expect(badEmail.status == 65)
    }

    @Test("a contact change is audited: who, when, old and new address")
    func contactChangeIsAudited() throws {
        let fixture = try RoutingFixture("deptaudit")
        defer { fixture.database.drop() }
        try fixture.expectSuccess(["departments", "set-contact", "voirie", "--arrondissement", "anfa", "a@example.org"])
        try fixture.expectSuccess(["departments", "set-contact", "voirie", "--arrondissement", "anfa", "b@example.org",
                                   "--note", "office moved"])
        try fixture.expectSuccess(["departments", "remove-contact", "voirie", "--arrondissement", "anfa"])
        // Nobody names the actor: the option is refused, and nothing is written.
        let forged = try fixture.chikaya.run(["departments", "set-contact", "voirie", "c@example.org", "--actor", "khadija"],
                                             environment: fixture.environment)
        #expect(forged.status == 64)
        #expect(forged.stderr.contains("--actor is not accepted"))
        let db = try fixture.database.connect()
        // The database records the login that made each change.
        let login: String = try db.query("SELECT session_user::text").single().decode(0)
        let rows = try db.query("""
            SELECT coalesce(old_email, '-'), coalesce(new_email, '-'), actor, coalesce(note, ''), at <= now()
            FROM department_contact_changes WHERE department = 'voirie' AND arrondissement = 'anfa' ORDER BY id
            """).rows.map { [try $0.decode(0, as: String.self), try $0.decode(1, as: String.self), try $0.decode(2, as: String.self),
                             try $0.decode(3, as: String.self), String(try $0.decode(4, as: Bool.self))] }
        #expect(rows == [["-", "a@example.org", login, "", "true"],
                         ["a@example.org", "b@example.org", login, "office moved", "true"],
                         ["b@example.org", "-", login, "", "true"]])
        // A change made with plain SQL is recorded as well.
        try db.query("INSERT INTO department_contacts (department, email) VALUES ('voirie', 'sql@example.org')")
        #expect(try fixture.count("SELECT count(*) FROM department_contact_changes WHERE new_email = 'sql@example.org'", on: db) == 1)
        let history = try fixture.expectSuccess(["departments", "history", "voirie"])
        #expect(history.stdout.contains("a@example.org -> b@example.org  by \(login)"))
    }

    @Test("one department email per assignment and one more per reassignment, through a real SMTP server",
          .enabled(if: MaildirReceiver.available))
    func deliveryThroughRealSMTP() throws {
        let fixture = try RoutingFixture("deptsmtp")
        defer { fixture.database.drop() }
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        try fixture.expectSuccess(["departments", "set-contact", "proprete", "proprete@example.org"])
        try fixture.expectSuccess(["departments", "set-contact", "proprete", "--arrondissement", "anfa", "proprete.anfa@example.org"])
        try fixture.expectSuccess(["submit", "--file", "-"], stdin: "arrondissement\ttext\temail\tname\tphone\n"
                                  + "anfa\tLes poubelles débordent devant le 12 rue Secrète\tamina@example.org\tAmina Citoyenne\t0600000000\n")
        try fixture.expectSuccess(["submit", "--text", "الزبل عامر الزنقة ديالنا هادي شهر", "--arrondissement", "sidi-moumen", "--anonymous"])
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        #expect(try fixture.count("SELECT count(*) FROM complaints WHERE department = 'proprete'", on: db) == 2)

        // Reassign the first complaint to a department without a contact: it waits, never lost.
        try db.transaction { db in
            try db.query("SELECT set_config('chikaya.note', 'pas de notre ressort', true), set_config('chikaya.actor', 'agent', true)")
            try db.query("UPDATE complaints SET department = 'voirie' WHERE citizen_email = 'amina@example.org'")
        }
        let check = try fixture.chikaya.run(["departments", "check"], environment: fixture.environment)
        #expect(check.status == 1)
        #expect(check.stdout.contains("voirie (anfa)"))
        let set = try fixture.expectSuccess(["departments", "set-contact", "voirie", "voirie@example.org"])
        #expect(set.stdout.contains("queued 1 waiting complaint"))

        let notifier = try fixture.expectSuccess(["notifier", "--drain"], environment: ["CHIKAYA_SMTP_URL": receiver.smtpURL])
        #expect(!notifier.stderr.contains("Secrète"), "logs never carry the complaint text")
        #expect(!notifier.stderr.contains("amina@example.org"))
        let messages = try receiver.decodedMessages()
        func to(_ address: String) -> [[String: String]] { messages.filter { $0["To"] == address } }
        #expect(to("proprete.anfa@example.org").count == 1)
        #expect(to("proprete@example.org").count == 1)
        #expect(to("voirie@example.org").count == 1)
        #expect(to("amina@example.org").count == 2, "the citizen hears about the assignment and the reassignment")
        #expect(messages.count == 5)
        let status = try fixture.expectSuccess(["notifications", "status"])
        #expect(status.stdout.contains("department         0        3        0"))

        let named = try #require(to("proprete.anfa@example.org").first)
        #expect(named["text"]?.contains("Les poubelles débordent devant le 12 rue Secrète") == true)
        #expect(named["text"]?.contains("Amina Citoyenne, amina@example.org, 0600000000") == true)
        #expect(named["text"]?.contains("Anfa") == true)
        #expect(named["text"]?.contains("termes : poubelles") == true)
        #expect(named["Reply-To"]?.contains("no-reply@chikaya.invalid") == true)
        let reference = try db.query("SELECT reference FROM complaints WHERE citizen_email = 'amina@example.org'").single()
            .decode(0, as: String.self).lowercased()
        #expect(named["In-Reply-To"] == "<dept.\(reference)@chikaya.invalid>")
        let moved = try #require(to("voirie@example.org").first)
        #expect(moved["References"] == "<dept.\(reference)@chikaya.invalid>", "the same thread for every email about the complaint")
        #expect(moved["text"]?.contains("proprete") == true)
        #expect(moved["text"]?.contains("pas de notre ressort") == true)

        let anonymous = try #require(to("proprete@example.org").first)
        #expect(anonymous["text"]?.contains("الزبل عامر الزنقة ديالنا هادي شهر") == true, "the text as written")
        #expect(anonymous["html"]?.contains("dir=\"auto\"") == true)
        for part in ["text", "html", "raw"] {
            #expect(anonymous[part]?.contains("Contact du citoyen") == false)
            #expect(anonymous[part]?.contains("@example.org>") == false)
            #expect(anonymous[part]?.contains("amina") == false)
        }

        // A second drain sends nothing more: exactly one email per assignment.
        try fixture.expectSuccess(["notifier", "--drain"], environment: ["CHIKAYA_SMTP_URL": receiver.smtpURL])
        #expect(try receiver.decodedMessages().count == 5)
    }

    @Test("late at the boundary: due time plus a second is late by 0 days, a day more is 1")
    func lateAtTheBoundary() throws {
        let fixture = try RoutingFixture("deptlate")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        try DepartmentStore.applySettings(department: "voirie", language: "fr", replyTo: nil, firstActionDays: 2,
                                          resolutionDays: 5, on: db)
        try fixture.expectSuccess(["submit", "--text", "Nid de poule rue 7", "--arrondissement", "anfa"])
        try db.query("UPDATE complaints SET status = 'assigned', department = 'voirie'")
        try db.query("UPDATE complaint_events SET at = '2026-03-01 10:00:00+00'")
        func late(_ at: String) throws -> [String] {
            try db.query("SELECT target || ':' || days_late FROM late_complaints_at($1::timestamptz) ORDER BY target", [at])
                .rows.map { try $0.decode(0, as: String.self) }
        }
        #expect(try late("2026-03-03 10:00:00+00") == [], "exactly at the due time is not late")
        #expect(try late("2026-03-03 10:00:01+00") == ["first_action:0"])
        #expect(try late("2026-03-04 10:00:01+00") == ["first_action:1"])
        #expect(try late("2026-03-06 10:00:01+00") == ["first_action:3", "resolution:0"])
        try db.query("UPDATE complaints SET status = 'in_progress'")
        #expect(try late("2026-03-06 10:00:01+00") == ["resolution:0"], "first action was taken")
        try db.query("UPDATE complaints SET status = 'resolved'")
        #expect(try late("2026-03-09 10:00:00+00") == [])
        #expect(try fixture.count("SELECT count(*) FROM late_complaints", on: db) == 0)
    }
}

@Suite("Department digest against the real PostgreSQL cluster", .enabled(if: TestDatabase.available))
struct DigestIntegrationTests {
    @Test("the digest is emailed once per office and day", .enabled(if: MaildirReceiver.available))
    func digestOncePerDayPerOffice() throws {
        let fixture = try RoutingFixture("digest")
        defer { fixture.database.drop() }
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        try fixture.expectSuccess(["departments", "set-contact", "proprete", "proprete@example.org"])
        try fixture.expectSuccess(["departments", "set-contact", "proprete", "--arrondissement", "anfa", "anfa@example.org"])
        for (text, arrondissement) in [("Les poubelles débordent rue 1", "anfa"), ("Les poubelles débordent rue 2", "maarif"),
                                       ("Les poubelles débordent rue 3", "anfa")] {
            try fixture.expectSuccess(["submit", "--text", text, "--arrondissement", arrondissement])
        }
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        try DepartmentStore.applySettings(department: "proprete", language: "fr", replyTo: nil, firstActionDays: 1,
                                          resolutionDays: 10, on: db)
        try db.query("UPDATE complaint_events SET at = at - interval '3 days' WHERE complaint_id = (SELECT min(id) FROM complaints)")

        let printed = try fixture.expectSuccess(["digest"])
        #expect(printed.stdout.contains("proprete (anfa) -> anfa@example.org"))
        #expect(printed.stdout.contains("late first action +2 d"))
        #expect(!printed.stdout.contains("poubelles"), "no complaint text in the digest")

        let environment = ["CHIKAYA_SMTP_URL": receiver.smtpURL]
        let first = try fixture.expectSuccess(["digest", "--send"], environment: environment)
        #expect(first.stdout.contains("proprete (anfa): sent to anfa@example.org (2 complaint(s))"))
        #expect(first.stdout.contains("proprete (default office): sent to proprete@example.org (1 complaint(s))"))
        let second = try fixture.expectSuccess(["digest", "--send"], environment: environment)
        #expect(second.stdout.contains("already sent"))
        #expect(!second.stdout.contains("sent to"))
        let messages = try receiver.decodedMessages()
        #expect(messages.count == 2)
        #expect(messages.filter { $0["To"] == "anfa@example.org" }.count == 1)
        let anfa = try #require(messages.first { $0["To"] == "anfa@example.org" })
        #expect(anfa["text"]?.contains("En retard (1)") == true)
        #expect(try fixture.count("SELECT count(*) FROM digests_sent WHERE state = 'sent'", on: db) == 2)

        // Another day is another digest; the complaints already reported are no longer new.
        let tomorrow = try fixture.expectSuccess(["digest", "--send", "--date", "2099-01-01"], environment: environment)
        #expect(tomorrow.stdout.contains("sent to anfa@example.org"))
        #expect(try receiver.decodedMessages().count == 4)
    }
}

@Suite("Department commands without a database")
struct DepartmentCommandHelpUnitTests {
    @Test("departments and digest answer --help with their usage and exit 0")
    func help() throws {
        let chikaya = ChikayaBinary.locate()
        for (command, words) in [("departments", "set-contact"), ("digest", "--send")] {
            let outcome = try chikaya.run([command, "--help"], environment: ["DATABASE_URL": ""])
            #expect(outcome.status == 0)
            #expect(outcome.stdout.contains(words))
        }
        let bad = try chikaya.run(["digest", "--date", "yesterday"], environment: ["DATABASE_URL": ""])
        #expect(bad.status == 64)
    }

    @Test("the departments file: sections, deadlines, offices, and every error at once")
    func departmentsFile() throws {
        let file = try DepartmentsFile.parse("""
            [voirie]   # roads
            language = ar
            first_action_days = 5
            contact = voirie@example.org
            contact anfa = voirie.anfa@example.org
            """, path: "f")
        #expect(file.entries.count == 1)
        #expect(file.entries[0].language == "ar")
        #expect(file.entries[0].firstActionDays == 5)
        #expect(file.entries[0].contacts.map(\.arrondissement) == [nil, "anfa"])
        #expect(throws: DepartmentError.self) { try DepartmentsFile.parse("[x]\nfirst_action_days = 0\ncolour = red\n", path: "f") }
        do {
            _ = try DepartmentsFile.parse("[x]\nfirst_action_days = 0\ncolour = red\n", path: "f")
        } catch {
            #expect(error.description.contains("f:2:"))
            #expect(error.description.contains("f:3: unknown setting 'colour'"))
        }
        // Codes and bounds are checked with the line, so sync never fails half-way in the database.
        do {
            _ = try DepartmentsFile.parse("[eclairag]\ncontact = a@example.org\n[voirie]\nfirst_action_days = 400\ncontact atlantis = b@example.org\n",
                                          path: "g")
            Issue.record("a file with an unknown department must be refused")
        } catch {
            #expect(error.description.contains("g:1: unknown department 'eclairag'"))
            #expect(error.description.contains("g:4: first_action_days is a whole number of days from 1 to 365"))
            #expect(error.description.contains("g:5: unknown arrondissement 'atlantis'"))
        }
        let shipped = try DepartmentsFile.load(path: ChikayaBinary.repositoryRoot().appendingPathComponent("config/departments.conf").path)
        #expect(Set(shipped.entries.map(\.department)) == Set(CityDirectory.departments.map(\.code)))
    }
}
