import ChikayaCore
import Foundation
import Postgres
import Routing
import Testing
import TestSupport

/// Helpers shared by the lifecycle, complaints, backtest and stats tests.
extension RoutingFixture {
    /// Submits `count` complaints (see `submit`) and routes them with one draining worker.
    func submitAndRoute(count: Int, marker: (Int) -> String? = { _ in nil }) throws {
        try submit(count: count, marker: marker)
        try expectSuccess(["worker", "--drain"])
    }

    /// References in submission order.
    func references(on db: PostgresConnection) throws -> [String] {
        try db.query("SELECT reference FROM complaints ORDER BY id").rows.map { try $0.decode(0, as: String.self) }
    }

    /// Runs the binary and returns the outcome whatever the exit status.
    func run(_ arguments: [String]) throws -> ChikayaBinary.Outcome {
        try chikaya.run(arguments, environment: environment)
    }

    func scalar<T: PostgresDecodable>(_ sql: String, _ parameters: [(any PostgresBindable)?] = [], on db: PostgresConnection) throws -> T {
        try db.query(sql, parameters).single().decode(0, as: T.self)
    }
}

@Suite("Lifecycle: allowed and refused moves, events and notifications (integration)", .enabled(if: TestDatabase.available))
struct LifecycleIntegrationTests {
    @Test("set-status walks the allowed moves; each writes one event and one citizen notification")
    func allowedMoves() throws {
        let fixture = try RoutingFixture("lcallowed")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 1)  // complaint 0 has an email
        let db = try fixture.database.connect()
        let reference = try fixture.references(on: db)[0]
        let id: Int64 = try fixture.scalar("SELECT id FROM complaints WHERE reference = $1", [reference], on: db)
        func counts() throws -> (Int, Int) {
            (try fixture.scalar("SELECT count(*)::int FROM complaint_events WHERE complaint_id = $1", [id], on: db),
             try fixture.scalar("SELECT count(*)::int FROM notifications WHERE complaint_id = $1", [id], on: db))
        }
        #expect(try counts() == (1, 1))
        let steps: [(String, String?)] = [("in_progress", nil), ("resolved", "fixed"), ("in_progress", "reopened"),
                                          ("rejected", "not the city's responsibility"), ("in_progress", nil)]
        for (n, (status, note)) in steps.enumerated() {
            var arguments = ["complaints", "set-status", reference, status]
            if let note { arguments += ["--note", note] }
            let outcome = try fixture.run(arguments)
            #expect(outcome.status == 0, "\(status): \(outcome.stderr)")
            #expect(outcome.stdout.contains("-> \(status)"))
            #expect(try counts() == (n + 2, n + 2), "one event and one notification for \(status)")
        }
        let rejected = try db.query("""
            SELECT e.actor, e.note, n.template FROM complaint_events e JOIN notifications n ON n.event_id = e.id
            WHERE e.complaint_id = $1 AND e.to_status = 'rejected'
            """, [id]).single()
        // The login that made the change (here the cluster's superuser), whatever the client says.
        #expect(try rejected.decode(0, as: String.self) == (try db.query("SELECT session_user::text").single().decode(0, as: String.self)))
        #expect(try rejected.decode(1, as: String?.self) == "not the city's responsibility")
        #expect(try rejected.decode(2, as: String.self) == "rejected")

        // The same status again changes nothing and is not an error.
        let again = try fixture.run(["complaints", "set-status", reference, "in_progress"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("nothing changed"))
        #expect(try counts() == (6, 6))
    }

    @Test("refused moves exit 65 with the database's message and write nothing")
    func refusedMoves() throws {
        let fixture = try RoutingFixture("lcrefused")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 1)
        let db = try fixture.database.connect()
        let reference = try fixture.references(on: db)[0]
        let before: Int = try fixture.scalar("SELECT count(*)::int FROM complaint_events", on: db)

        let back = try fixture.run(["complaints", "set-status", reference, "received"])
        #expect(back.status == 65)
        #expect(back.stderr.contains("cannot move from assigned to received"))
        #expect(back.stderr.split(separator: "\n").count == 1)

        let noReason = try fixture.run(["complaints", "set-status", reference, "rejected"])
        #expect(noReason.status == 65)
        #expect(noReason.stderr.contains("cannot be rejected without a reason"))

        #expect(try fixture.run(["complaints", "set-status", reference, "resolved"]).status == 0)
        let resolvedToRejected = try fixture.run(["complaints", "set-status", reference, "rejected", "--note", "why not"])
        #expect(resolvedToRejected.status == 65)
        #expect(resolvedToRejected.stderr.contains("cannot move from resolved to rejected"))

        let unknown = try fixture.run(["complaints", "set-status", "CC-1999-999999", "resolved"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr == "chikaya: complaints set-status: no complaint has the reference CC-1999-999999\n")

        let badStatus = try fixture.run(["complaints", "set-status", reference, "closed"])
        #expect(badStatus.status == 64)
        #expect(try fixture.scalar("SELECT count(*)::int FROM complaint_events", on: db) == before + 1)
    }

    @Test("a plain SQL UPDATE from another system writes exactly one event and one notification")
    func plainSQLUpdate() throws {
        let fixture = try RoutingFixture("lcsql")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 1)
        let db = try fixture.database.connect()
        let id: Int64 = try fixture.scalar("SELECT id FROM complaints", on: db)
        #expect(try db.execute("UPDATE complaints SET status = 'in_progress' WHERE id = $1", [id]) == 1)
        let event = try db.query("""
            SELECT from_status, to_status, actor, note FROM complaint_events WHERE complaint_id = $1 ORDER BY id DESC LIMIT 1
            """, [id]).single()
        #expect(try event.decode(0, as: String.self) == "assigned")
        #expect(try event.decode(1, as: String.self) == "in_progress")
        // With no actor set, the database role that made the change is recorded.
        let role: String = try db.query("SELECT session_user::text").single().decode(0)
        #expect(try event.decode(2, as: String.self) == role)
        #expect(try event.decode(3, as: String?.self) == nil)
        #expect(try fixture.scalar("SELECT count(*)::int FROM complaint_events WHERE complaint_id = $1", [id], on: db) == 2)
        #expect(try fixture.scalar("SELECT count(*)::int FROM notifications WHERE complaint_id = $1 AND template = 'in_progress'",
                                   [id], on: db) == 1)
        // An UPDATE that touches other columns, or sets the same status, records nothing.
        try db.execute("UPDATE complaints SET status = 'in_progress', citizen_phone = '0600000000' WHERE id = $1", [id])
        #expect(try fixture.scalar("SELECT count(*)::int FROM complaint_events WHERE complaint_id = $1", [id], on: db) == 2)
        // A plain SQL rejection without a reason is refused, with one that is set it passes.
        #expect(throws: PostgresError.self) { try db.execute("UPDATE complaints SET status = 'rejected' WHERE id = $1", [id]) }
        try db.transaction { db in
            try db.query("SELECT set_config('chikaya.note', 'duplicate of CC-2026-000001', true)")
            try db.execute("UPDATE complaints SET status = 'rejected' WHERE id = $1", [id])
        }
        #expect(try fixture.scalar("SELECT count(*)::int FROM notifications WHERE complaint_id = $1", [id], on: db) == 3)
    }

    @Test("migration 3: a department cannot be set before routing nor removed after")
    func departmentGuards() throws {
        let fixture = try RoutingFixture("lcdept")
        defer { fixture.database.drop() }
        try fixture.submit(count: 2)  // not routed: both stay 'received'
        let db = try fixture.database.connect()
        let ids = try db.query("SELECT id FROM complaints ORDER BY id").rows.map { try $0.decode(0, as: Int64.self) }
        let early = #expect(throws: PostgresError.self, "a department set on a received complaint") {
            try db.execute("UPDATE complaints SET department = 'voirie' WHERE id = $1", [ids[0]])
        }
        #expect(early?.message.contains("is not routed yet") == true)
        try fixture.expectSuccess(["worker", "--drain"])
        #expect(try fixture.scalar("SELECT count(*)::int FROM complaints WHERE status = 'assigned'", on: db) == 2,
                "the router still routes both")
        let removed = #expect(throws: PostgresError.self, "the department of an assigned complaint removed") {
            try db.execute("UPDATE complaints SET department = NULL WHERE id = $1", [ids[1]])
        }
        #expect(removed?.message.contains("cannot be removed") == true)
    }

    @Test("reassign records both departments with the note and notifies the citizen once")
    func reassign() throws {
        let fixture = try RoutingFixture("lcreassign")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 4)  // complaint 3: "Nid de poule ..." with an email, routed to voirie
        let db = try fixture.database.connect()
        let reference = try fixture.references(on: db)[3]
        let id: Int64 = try fixture.scalar("SELECT id FROM complaints WHERE reference = $1", [reference], on: db)
        #expect(try fixture.scalar("SELECT department FROM complaints WHERE id = $1", [id], on: db) == "voirie")
        let notificationsBefore: Int = try fixture.scalar("SELECT count(*)::int FROM notifications", on: db)

        let missingNote = try fixture.run(["complaints", "reassign", reference, "proprete"])
        #expect(missingNote.status == 64)

        let forged = try fixture.run(["complaints", "reassign", reference, "proprete", "--note", "x", "--actor", "triage-cell"])
        #expect(forged.status == 64)
        let outcome = try fixture.run(["complaints", "reassign", reference, "proprete", "--note", "rubble, not a pothole"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("voirie -> proprete"))
        let event = try db.query("""
            SELECT from_department, to_department, from_status, to_status, actor, note
            FROM complaint_events WHERE complaint_id = $1 ORDER BY id DESC LIMIT 1
            """, [id]).single()
        #expect(try event.decode(0, as: String?.self) == "voirie")
        #expect(try event.decode(1, as: String?.self) == "proprete")
        #expect(try event.decode(2, as: String.self) == "assigned")
        #expect(try event.decode(3, as: String.self) == "assigned")
        #expect(try event.decode(4, as: String.self) == (try db.query("SELECT session_user::text").single().decode(0, as: String.self)))
        #expect(try event.decode(5, as: String?.self) == "rubble, not a pothole")
        #expect(try fixture.scalar("SELECT count(*)::int FROM notifications", on: db) == notificationsBefore + 1)

        let same = try fixture.run(["complaints", "reassign", reference, "proprete", "--note", "again"])
        #expect(same.status == 65)
        #expect(same.stderr.contains("already with proprete"))
        let unknown = try fixture.run(["complaints", "reassign", reference, "nowhere", "--note", "x"])
        #expect(unknown.status == 65)
        #expect(try fixture.run(["complaints", "set-status", reference, "resolved"]).status == 0)
        let closed = try fixture.run(["complaints", "reassign", reference, "voirie", "--note", "x"])
        #expect(closed.status == 65)
        #expect(closed.stderr.contains("reopen it before changing its department"))
        #expect(try fixture.scalar("SELECT count(*)::int FROM notifications", on: db) == notificationsBefore + 2)
    }
}

@Suite("Complaints commands end to end (integration)", .enabled(if: TestDatabase.available))
struct ComplaintsCommandIntegrationTests {
    @Test("list filters and prints newest first in table, tsv and json")
    func list() throws {
        let fixture = try RoutingFixture("cmdlist")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 5)
        let db = try fixture.database.connect()
        let references = try fixture.references(on: db)
        // Complaint 0 is four days old.
        try db.execute("UPDATE complaints SET submitted_at = now() - interval '4 days' WHERE reference = $1", [references[0]])

        let table = try fixture.run(["complaints", "list"])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("REFERENCE") == true)
        #expect(lines.count == 6)
        #expect(lines[1].hasPrefix(references[4]), "newest first")
        #expect(lines.last?.hasPrefix(references[0]) == true)
        #expect(table.stdout.contains("Nid de poule"))

        let old = try fixture.run(["complaints", "list", "--older-than", "3d", "--format", "tsv"])
        #expect(old.status == 0)
        let rows = old.stdout.split(separator: "\n")
        #expect(rows.count == 2)
        #expect(rows[1].hasPrefix(references[0] + "\t"))

        let voirie = try fixture.run(["complaints", "list", "--department", "voirie", "--status", "assigned",
                                      "--arrondissement", "anfa", "--format", "json"])
        #expect(voirie.status == 0)
        let decoded = try JSONSerialization.jsonObject(with: Data(voirie.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.count == 1)
        #expect(decoded?.first?["reference"] as? String == references[3])
        #expect(decoded?.first?["department"] as? String == "voirie")

        #expect(try fixture.run(["complaints", "list", "--status", "closed"]).status == 64)
        #expect(try fixture.run(["complaints", "list", "--older-than", "soon"]).status == 64)
        #expect(try fixture.run(["complaints", "list", "--format", "xml"]).status == 64)
        let none = try fixture.run(["complaints", "list", "--status", "resolved"])
        #expect(none.status == 0)
        #expect(none.stdout == "no complaint matches\n")
    }

    @Test("show prints the complaint, the decision's explanation and the full history")
    func show() throws {
        let fixture = try RoutingFixture("cmdshow")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 1)
        let db = try fixture.database.connect()
        let reference = try fixture.references(on: db)[0]
        try db.execute("""
            INSERT INTO attachments (complaint_id, file_name, content_type, byte_size, storage_key)
            SELECT id, 'photo.jpg', 'image/jpeg', 48213, 's3://chikaya/a1' FROM complaints
            """)
        #expect(try fixture.run(["complaints", "set-status", reference, "in_progress", "--note", "team sent"]).status == 0)
        let outcome = try fixture.run(["complaints", "show", reference])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let text = outcome.stdout
        for expected in ["complaint \(reference)", "citizen0@example.org", "Les poubelles débordent",
                         "photo.jpg  image/jpeg  48213 bytes", "routing decision", "rules version",
                         "poubel*", "scores", "decision: proprete", "assigned -> in_progress", "team sent",
                         "history (2 events)", "notifications (2)", "citizen citizen0@example.org"] {
            #expect(text.contains(expected), "missing '\(expected)' in:\n\(text)")
        }
        // Personal data goes to the terminal of staff, never to the logs.
        #expect(!outcome.stderr.contains("citizen0@example.org"))

        let unknown = try fixture.run(["complaints", "show", "CC-1999-000001"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr == "chikaya: complaints show: no complaint has the reference CC-1999-000001\n")
    }

    @Test("--help of every new command exits 0 with its usage")
    func help() throws {
        let chikaya = ChikayaBinary.locate()
        for (arguments, expected) in [(["complaints", "--help"], "complaints set-status"), (["stats", "--help"], "--since"),
                                      (["rules", "--help"], "rules backtest FILE"), (["help", "complaints"], "reassign")] {
            let outcome = try chikaya.run(arguments)
            #expect(outcome.status == 0)
            #expect(outcome.stdout.contains(expected))
        }
        #expect(try chikaya.run(["complaints", "close"]).status == 64)
    }
}

@Suite("Rules backtest and diff (integration)", .enabled(if: TestDatabase.available))
struct BacktestIntegrationTests {
    /// The shipped rules plus one keyword that takes potholes from voirie to proprete.
    static func draft() throws -> String {
        let shipped = try String(contentsOf: ChikayaBinary.repositoryRoot().appendingPathComponent("config/routing-rules.conf"),
                                 encoding: .utf8)
        let path = NSTemporaryDirectory() + "draft-\(UUID().uuidString).conf"
        try (shipped + "\n[proprete]\n9: nid de poule\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("pages read on their own thread while the previous one is classified: the same report, every complaint once, in order")
    func backtestOverPagesReadAhead() throws {
        let fixture = try RoutingFixture("backtestpages")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 23)
        let db = try fixture.database.connect()
        let draft = try Self.draft()
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let classifier = Classifier(rules: try RuleSet.load(path: draft))
        var whole = Backtester(classifier: classifier, examplesPerMove: 50)
        try whole.replay(.last(23), on: db)
        // Pages of 2: twelve pages, most of them read while another is classified.
        var paged = Backtester(classifier: classifier, examplesPerMove: 50)
        var seen: [Int] = []
        try paged.replay(.last(23), on: db, pageSize: 2) { done, total in
            #expect(total == 23)
            seen.append(done)
        }
        #expect(seen == Array(stride(from: 2, through: 22, by: 2)) + [23])
        #expect(paged.report.examined == 23 && whole.report.examined == 23)
        #expect(paged.report.changed == whole.report.changed && paged.report.changed == 4)
        #expect(paged.report.moves == whole.report.moves)
        // Newest first, as the single page: the examples come in the same order.
        #expect(paged.report.examples.mapValues { $0.map(\.reference) } == whole.report.examples.mapValues { $0.map(\.reference) })
        // A scope with nothing in it reads nothing and starts no reader.
        var none = Backtester(classifier: classifier)
        try none.replay(.since(seconds: 0.000_001), on: db, pageSize: 2)
        #expect(none.report.examined == 0)
    }

    @Test("rules suggest's history read in pages of 3 ids: the same examples, counts and order as one page")
    func correctionHistoryOverPages() throws {
        let fixture = try RoutingFixture("suggestpages")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 20)
        let db = try fixture.database.connect()
        let references = try fixture.references(on: db)
        #expect(try fixture.run(["complaints", "reassign", references[3], "proprete", "--note", "rubble"]).status == 0)
        let whole = try Corrections.history(sinceSeconds: 3_600, on: db)
        let paged = try Corrections.history(sinceSeconds: 3_600, on: db, pageSize: 3)
        #expect(whole.corrections == 1 && paged.corrections == 1)
        #expect(paged.confirmed == whole.confirmed && paged.unlabelled == whole.unlabelled)
        #expect(paged.corrections + paged.confirmed + paged.unlabelled == 20)
        #expect(paged.examples.map(\.reference) == whole.examples.map(\.reference))
        #expect(paged.examples.map(\.department) == whole.examples.map(\.department))
        // Oldest first, each complaint once; the corrected one labelled where staff put it.
        #expect(paged.examples.map(\.reference) == references.filter { Set(paged.examples.map(\.reference)).contains($0) })
        #expect(paged.examples.first { $0.reference == references[3] }?.department == "proprete")
        // A window with nothing in it reads nothing.
        #expect(try Corrections.history(sinceSeconds: 0.000_001, on: db, pageSize: 3).examples.isEmpty)
    }

    @Test("a changed keyword: backtest reports the moves, examples and the manual reassignment it now gets right")
    func backtestReportsMoves() throws {
        let fixture = try RoutingFixture("backtest")
        defer { fixture.database.drop() }
        try fixture.submitAndRoute(count: 20)  // 4 potholes (i % 5 == 3) routed to voirie
        let db = try fixture.database.connect()
        #expect(try fixture.scalar("SELECT count(*)::int FROM complaints WHERE department = 'voirie'", on: db) == 4)
        let pothole = try fixture.references(on: db)[3]
        #expect(try fixture.run(["complaints", "reassign", pothole, "proprete", "--note", "rubble"]).status == 0)
        let draft = try Self.draft()
        defer { try? FileManager.default.removeItem(atPath: draft) }

        let outcome = try fixture.run(["rules", "backtest", draft, "--since", "30d"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let text = outcome.stdout
        #expect(text.contains("complaints replayed: 20 "))
        #expect(text.contains("would change department: 4 (20.0%)"))
        #expect(text.contains("of which 3 were never corrected by hand"))
        #expect(text.contains("manual reassignments: 1; the draft now routes 1 of them"))
        #expect(text.range(of: #"voirie\s+proprete\s+4"#, options: .regularExpression) != nil, "\(text)")
        #expect(text.contains("voirie -> proprete (4):"))
        #expect(text.contains("decision: proprete: score 9"))
        #expect(!outcome.stderr.contains("backtest:"), "no progress line when stderr is not a terminal")
        // Nothing was published.
        #expect(try fixture.scalar("SELECT count(*)::int FROM rules_publications", on: db) == 1)

        let last = try fixture.run(["rules", "backtest", draft, "--last", "5", "--examples", "0"])
        #expect(last.status == 0)
        #expect(last.stdout.contains("complaints replayed: 5 "))
        #expect(last.stdout.contains("would change department: 1 "))

        #expect(try fixture.run(["rules", "backtest", draft, "--last", "5", "--since", "3d"]).status == 64)
        #expect(try fixture.run(["rules", "backtest", "/nonexistent.conf"]).status == 66)
    }

    @Test("diff lists keywords added and removed per department against the rules in force or a version")
    func diff() throws {
        let fixture = try RoutingFixture("rulesdiff")
        defer { fixture.database.drop() }
        let draft = try Self.draft()
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let outcome = try fixture.run(["rules", "diff", draft])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("proprete: +1 -0 ~0"))
        #expect(outcome.stdout.contains("  + 'nid de poule' 9"))
        #expect(!outcome.stdout.contains("voirie:"))
        let same = try fixture.run(["rules", "diff", "config/routing-rules.conf"])
        #expect(same.stdout.contains("no keyword changes"))
        let db = try fixture.database.connect()
        let version: String = try fixture.scalar("SELECT version FROM rules_publications", on: db)
        let reverse = try fixture.run(["rules", "diff", String(version.prefix(8)), draft])
        #expect(reverse.status == 0)
        #expect(reverse.stdout.contains("+ 'nid de poule' 9"))
        let unknown = try fixture.run(["rules", "diff", "0000ffff", draft])
        #expect(unknown.status == 65)
    }
}

@Suite("Stats against a known data set (integration)", .enabled(if: TestDatabase.available))
struct StatsIntegrationTests {
    @Test("every figure of stats --format json matches what was inserted")
    func knownDataSet() throws {
        let fixture = try RoutingFixture("stats")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        // Ten complaints an hour old (6 anfa, 4 maarif), one ten days old (outside the window).
        // Complaints 0-7 are routed after 1...8 seconds: 0-3 proprete, 4-5 voirie, 6-7 triage;
        // 8 and 9 stay in the queue. 0 and 4 have an email.
        var ids: [Int64] = []
        for i in 0..<10 {
            ids.append(try fixture.scalar("""
                INSERT INTO complaints (body, language, arrondissement, citizen_email, submitted_at)
                VALUES ($1, 'fr', $2, $3, now() - interval '1 hour') RETURNING id
                """, ["complaint \(i)", i < 6 ? "anfa" : "maarif", i == 0 || i == 4 ? "c\(i)@example.org" : nil], on: db))
        }
        let old: Int64 = try fixture.scalar("""
            INSERT INTO complaints (body, language, arrondissement, submitted_at)
            VALUES ('old', 'fr', 'anfa', now() - interval '10 days') RETURNING id
            """, on: db)
        let routes = ["proprete", "proprete", "proprete", "proprete", "voirie", "voirie", "triage", "triage"]
        for (i, department) in routes.enumerated() {
            try route(ids[i], to: department, afterSeconds: Double(i + 1), on: db)
        }
        try route(old, to: "voirie", afterSeconds: 100, on: db)
        try db.execute("UPDATE routing_queue SET enqueued_at = now() - interval '5 minutes'")
        // Staff move complaint 4 from voirie to proprete; complaints 0 and 1 are resolved after
        // one and two hours.
        try db.transaction { db in
            try db.query("SELECT set_config('chikaya.actor', 'staff', true), set_config('chikaya.note', 'wrong', true)")
            try db.execute("UPDATE complaints SET department = 'proprete' WHERE id = $1", [ids[4]])
        }
        for (i, hours) in [(0, 1.0), (1, 2.0)] {
            try db.execute("UPDATE complaints SET status = 'resolved' WHERE id = $1", [ids[i]])
            try db.execute("""
                UPDATE complaint_events e SET at = c.submitted_at + make_interval(secs => $2::float8)
                FROM complaints c WHERE c.id = e.complaint_id AND e.complaint_id = $1 AND e.to_status = 'resolved'
                """, [ids[i], hours * 3_600])
        }
        // Notifications: 0 assigned + resolved, 4 assigned + reassigned: 4 rows; one sent, one failed.
        #expect(try fixture.scalar("SELECT count(*)::int FROM notifications", on: db) == 4)
        try db.execute("UPDATE notifications SET status = 'sent', sent_at = now() WHERE id = (SELECT min(id) FROM notifications)")
        try db.execute("UPDATE notifications SET status = 'failed' WHERE id = (SELECT max(id) FROM notifications)")

        let outcome = try fixture.run(["stats", "--since", "7d", "--format", "json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        func number(_ key: String) -> Double? { (json[key] as? NSNumber)?.doubleValue }
        #expect(number("received") == 10)
        #expect(number("routed") == 8)
        #expect(number("routed_to_triage") == 2)
        #expect(number("triage_share") == 0.25)
        #expect(number("reassigned_by_hand") == 1)
        #expect(number("reassigned_share") == 0.125)
        #expect(abs((number("latency_p50_seconds") ?? 0) - 4.5) < 0.01)
        #expect(abs((number("latency_p95_seconds") ?? 0) - 7.65) < 0.01)
        #expect(number("queue_pending") == 2)
        #expect(number("queue_dead") == 0)
        #expect(abs((number("queue_oldest_seconds") ?? 0) - 300) < 30)
        #expect(number("notifications_sent") == 1)
        #expect(number("notifications_pending") == 2)
        #expect(number("notifications_failed") == 1)

        let departments = try #require(json["departments"] as? [[String: Any]])
        func department(_ code: String) -> [String: Any]? { departments.first { $0["department"] as? String == code } }
        func value(_ code: String, _ key: String) -> Double? { (department(code)?[key] as? NSNumber)?.doubleValue }
        #expect(value("proprete", "complaints") == 5)
        #expect(value("proprete", "routed") == 4)
        #expect(value("proprete", "reassigned_by_hand") == 0)
        #expect(value("proprete", "resolved") == 2)
        #expect(abs((value("proprete", "median_seconds_to_resolved") ?? 0) - 5_400) < 1)
        #expect(value("voirie", "complaints") == 1)
        #expect(value("voirie", "routed") == 2)
        #expect(value("voirie", "reassigned_by_hand") == 1)
        #expect(value("voirie", "reassigned_share") == 0.5)
        #expect(value("triage", "routed") == 2)
        #expect(department("eclairage") == nil)

        let areas = try #require(json["arrondissements"] as? [[String: Any]])
        #expect(areas.count == 2)
        #expect(areas.first?["arrondissement"] as? String == "anfa")
        #expect((areas.first?["complaints"] as? NSNumber)?.intValue == 6)

        let table = try fixture.run(["stats"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("received              10"))
        #expect(table.stdout.contains("p50 4.50s  p95 7.65s"))
        #expect(try fixture.run(["stats", "--since", "yesterday"]).status == 64)
    }

    /// What the router does for one complaint: a decision `afterSeconds` after submission, the
    /// assignment (the trigger records it), the queue entry gone.
    private func route(_ id: Int64, to department: String, afterSeconds: Double, on db: PostgresConnection) throws {
        try db.execute("""
            INSERT INTO routing_decisions (complaint_id, department, confidence, matches, rules_version, worker_id, decided_at)
            SELECT id, $2, 0.5, '[]', 'test', 'test', submitted_at + make_interval(secs => $3::float8)
            FROM complaints WHERE id = $1
            """, [id, department, afterSeconds])
        try db.execute("UPDATE complaints SET status = 'assigned', department = $2 WHERE id = $1", [id, department])
        try db.execute("DELETE FROM routing_queue WHERE complaint_id = $1", [id])
    }
}
