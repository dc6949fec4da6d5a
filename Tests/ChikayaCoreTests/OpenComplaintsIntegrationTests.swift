import Foundation
import Postgres
import Testing
import TestSupport
@testable import ChikayaCore

/// `open_complaints` follows each complaint's status and department (migration 21), and routing
/// rewrites a complaint's row in place, against the real cluster.
@Suite("Open complaints (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct OpenComplaintsIntegrationTests {
    struct OpenRow: Equatable {
        let department: String
        let arrondissement: String?
        let keys: String?
    }

    func open(_ reference: String, on db: PostgresConnection) throws -> OpenRow? {
        try db.query("""
            SELECT o.department, o.arrondissement, o.text_keys::text AS keys
            FROM open_complaints o JOIN complaints c ON c.id = o.complaint_id AND c.submitted_at = o.submitted_at
            WHERE c.reference = $1
            """, [reference]).rows.first.map { row throws(PostgresError) in
                OpenRow(department: try row.decode("department"), arrondissement: try row.decode("arrondissement"),
                        keys: try row.decode("keys"))
            }
    }

    @Test("in from the assignment with the decision's keys, moved with its department, out when resolved, back when reopened")
    func followsTheLifecycle() throws {
        let fixture = try RoutingFixture("opencomplaints")
        defer { fixture.database.drop() }
        let pothole = try fixture.submit("Nid de poule dangereux sur la route devant le lycée, rue 4", arrondissement: "anfa")
        let lamp = try fixture.submit("الضو ديال الزنقة 8 طافي هادي سيمانة", arrondissement: "sidi-moumen")
        let db = try fixture.database.connect()
        #expect(try fixture.count("SELECT count(*) FROM open_complaints", on: db) == 0, "received is not open")
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"])

        let keys: String? = try db.query("""
            SELECT rd.text_keys::text FROM routing_decisions rd JOIN complaints c ON c.id = rd.complaint_id WHERE c.reference = $1
            """, [pothole]).single().decode(0)
        let routed = try #require(try open(pothole, on: db))
        #expect(routed.arrondissement == "anfa")
        #expect(routed.keys == keys && keys != nil, "the decision's keys, for the duplicate lookup")
        let department: String = try db.query("SELECT department FROM complaints WHERE reference = $1", [pothole]).single().decode(0)
        #expect(routed.department == department)
        #expect(try open(lamp, on: db) != nil)

        let other = department == "eclairage" ? "proprete" : "eclairage"
        try fixture.expectSuccess(["complaints", "reassign", pothole, other, "--note", "wrong department"])
        #expect(try open(pothole, on: db) == OpenRow(department: other, arrondissement: "anfa", keys: keys))
        try fixture.expectSuccess(["complaints", "set-status", pothole, "in_progress"])
        #expect(try open(pothole, on: db)?.department == other)
        try fixture.expectSuccess(["complaints", "set-status", pothole, "resolved", "--note", "repaired"])
        #expect(try open(pothole, on: db) == nil, "resolved is not open")
        try fixture.expectSuccess(["complaints", "set-status", pothole, "in_progress", "--note", "the hole is back"])
        #expect(try open(pothole, on: db) == OpenRow(department: other, arrondissement: "anfa", keys: keys), "reopened")
        try fixture.expectSuccess(["complaints", "set-status", lamp, "rejected", "--note", "private lamp"])
        #expect(try open(lamp, on: db) == nil, "rejected is not open")

        // The late complaints start from the open ones: the reopened one counts, the rejected not.
        try db.query("UPDATE departments SET resolution_days = 1 WHERE code = $1", [other])
        try db.query("UPDATE complaint_events SET at = at - interval '3 days'")
        let late = try db.query("SELECT DISTINCT reference FROM late_complaints").rows.map { try $0.decode(0, as: String.self) }
        #expect(late == [pothole])

        // A complaint deleted (an erasure) or truncated away is no longer open.
        try db.query("DELETE FROM complaints WHERE reference = $1", [pothole])
        #expect(try fixture.count("SELECT count(*) FROM open_complaints", on: db) == 0)
        try fixture.expectSuccess(["complaints", "set-status", lamp, "in_progress", "--note", "our lamp after all"])
        #expect(try fixture.count("SELECT count(*) FROM open_complaints", on: db) == 1)
        _ = try fixture.submit("Arbre tombé sur le trottoir", arrondissement: "anfa")
        #expect(try fixture.count("SELECT count(*) FROM open_complaints", on: db) == 1)
        // One inserted open (an import) is open at once; the intake's received ones are not.
        try db.executeScript("INSERT INTO complaints (body, arrondissement, status, department) VALUES ('imported', 'anfa', 'in_progress', 'voirie')")
        #expect(try fixture.count("SELECT count(*) FROM open_complaints WHERE department = 'voirie' AND arrondissement = 'anfa'", on: db) == 1)
        try db.executeScript("TRUNCATE complaints CASCADE")
        #expect(try fixture.count("SELECT count(*) FROM open_complaints", on: db) == 0)
    }

    @Test("complaints routed as they arrive are rewritten in place (HOT): no index of complaints names what routing changes")
    func routingUpdatesInPlace() throws {
        let database = try TestDatabase("openhot")
        defer { database.drop() }
        let db = try database.connect()
        _ = try MigrationRunner(connection: db).run()
        // As in service: a few complaints submitted, then routed (their status and department),
        // each in its own transaction, 200 times.
        var updated = 0
        for _ in 0..<200 {
            try db.executeScript("""
                INSERT INTO complaints (body, arrondissement, citizen_email)
                    SELECT repeat('Poubelles non ramassées depuis une semaine devant le numéro ' || n || '. ', 3), 'anfa',
                           'citizen' || n || '@example.org'
                    FROM generate_series(1, 5) n
                """)
            updated += try db.execute("UPDATE complaints SET status = 'assigned', department = 'proprete' WHERE status = 'received'")
        }
        try db.query("SELECT pg_stat_force_next_flush()")
        let row = try db.query("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'complaints'").single()
        let (all, hot): (Int, Int) = (try row.decode(0), try row.decode(1))
        #expect(updated == 1000 && all == 1000)
        // Migration 21 made it nearly all (937 to 1,000 in our runs: an update whose page filled
        // up before the old versions could be pruned moves to another page); with an index on
        // status or department it was none.
        #expect(hot >= 700, "\(hot) of \(all) updates were HOT")
        #expect(try db.query("SELECT count(*) FROM open_complaints").single().decode(0, as: Int.self) == 1000)
    }
}
