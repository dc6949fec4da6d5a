import Foundation
import Postgres
import Testing
import TestSupport

/// Migration 14 dropped the foreign keys a routed complaint checked row by row. What they did on
/// delete is done by triggers, and what they refused on insert is refused by the grants and a
/// policy; these tests hold both against the real PostgreSQL cluster.
@Suite("Routing write without per-row keys (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct RoutingKeysIntegrationTests {
    func count(_ sql: String, _ parameters: [(any PostgresBindable)?] = [], on db: PostgresConnection) throws -> Int {
        try db.query(sql, parameters).single().decode(0, as: Int.self)
    }

    /// Rows that hang off complaint `id` in each table the dropped keys tied to it.
    func history(of id: Int64, on db: PostgresConnection) throws -> [Int] {
        [try count("SELECT count(*) FROM routing_decisions WHERE complaint_id = $1", [id], on: db),
         try count("SELECT count(*) FROM complaint_events WHERE complaint_id = $1", [id], on: db),
         try count("SELECT count(*) FROM notifications WHERE complaint_id = $1", [id], on: db),
         try count("SELECT count(*) FROM department_deliveries_waiting WHERE complaint_id = $1", [id], on: db)]
    }

    @Test("deleting complaints or events takes what hangs off them; a link to a deleted complaint becomes NULL")
    func deletesCascadeThroughTriggers() throws {
        let fixture = try RoutingFixture("keysdelete")
        defer { fixture.database.drop() }
        // Five texts in turn, so later complaints are linked to earlier ones; every third has an
        // email; no office has a contact, so every assignment waits for one.
        try fixture.submit(count: 15)
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"])
        let db = try fixture.database.connect()
        try fixture.expectAllRoutedOnce(15, on: db)

        // The earliest complaint with an email that later ones link to.
        let target: Int64 = try db.query("""
            SELECT c.id FROM complaints c
            WHERE c.citizen_email IS NOT NULL AND EXISTS (SELECT 1 FROM routing_decisions d WHERE d.duplicate_of = c.id)
            ORDER BY c.id LIMIT 1
            """).single().decode(0)
        #expect(try history(of: target, on: db) == [1, 1, 1, 1])
        let linking: [Int64] = try db.query("SELECT complaint_id FROM routing_decisions WHERE duplicate_of = $1", [target])
            .rows.map { try $0.decode(0) }
        #expect(!linking.isEmpty)
        let others = try count("SELECT count(*) FROM complaint_events WHERE complaint_id <> $1", [target], on: db)

        try db.execute("DELETE FROM complaints WHERE id = $1", [target])
        #expect(try history(of: target, on: db) == [0, 0, 0, 0])
        #expect(try count("SELECT count(*) FROM routing_decisions WHERE duplicate_of = $1", [target], on: db) == 0)
        for id in linking {
            #expect(try history(of: id, on: db)[0] == 1, "the decision that linked to the deleted complaint stays")
        }
        #expect(try count("SELECT count(*) FROM complaint_events", on: db) == others)

        // An event deleted by hand (the owner may) takes its notifications and waiting delivery.
        let withEmail: Int64 = try db.query("""
            SELECT c.id FROM complaints c WHERE c.citizen_email IS NOT NULL ORDER BY c.id LIMIT 1
            """).single().decode(0)
        #expect(try history(of: withEmail, on: db) == [1, 1, 1, 1])
        try db.execute("DELETE FROM complaint_events WHERE complaint_id = $1", [withEmail])
        #expect(try history(of: withEmail, on: db) == [1, 0, 0, 0])

        // TRUNCATE ... CASCADE, which followed the keys, still empties the whole history.
        try db.execute("TRUNCATE complaints RESTART IDENTITY CASCADE")
        for table in ["routing_decisions", "complaint_events", "notifications", "department_deliveries_waiting", "routing_queue"] {
            #expect(try count("SELECT count(*) FROM \(table)", on: db) == 0, "\(table)")
        }
        // Naming the tables in the same TRUNCATE works too (each is emptied once).
        try fixture.submit(count: 3)
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"])
        try db.execute("TRUNCATE complaints, routing_decisions, complaint_events, notifications, department_deliveries_waiting CASCADE")
        #expect(try count("SELECT count(*) FROM complaint_events", on: db) == 0)
    }

    @Test("a worker login cannot write a decision for a complaint that is not queued, nor link one to nothing")
    func workerDecisionsNameQueuedComplaints() throws {
        let setup = try RoleIntegrationTests.Setup("keyspolicy", roles: ["intake", "worker"])
        _ = try setup.submit([("Les poubelles débordent rue 3", "anfa", ""), ("Lampadaire éteint rue 4", "anfa", "")])
        let owner = try setup.fixture.database.connect()
        let ids: [Int64] = try owner.query("SELECT id FROM complaints ORDER BY id").rows.map { try $0.decode(0) }
        // The second one was routed by hand meanwhile.
        try owner.execute("UPDATE complaints SET status = 'assigned', department = 'eclairage' WHERE id = $1", [ids[1]])
        let worker = try setup.connect("worker")
        let insert = """
            INSERT INTO routing_decisions (complaint_id, department, confidence, matches, rules_version, worker_id, duplicate_of)
            VALUES ($1, 'proprete', 0.9, '[]', 'v', 'w', $2)
            """
        RoleIntegrationTests.expectDenied(insert, [Int64(999_999), nil], on: worker)
        RoleIntegrationTests.expectDenied(insert, [ids[1], nil], on: worker)
        RoleIntegrationTests.expectDenied(insert, [ids[0], Int64(999_999)], on: worker)
        #expect(try count("SELECT count(*) FROM routing_decisions", on: owner) == 0)
        // A queued complaint, linked to one that exists: allowed, as the worker's own write does.
        try worker.execute(insert, [ids[0], ids[1]])
        #expect(try count("SELECT count(*) FROM routing_decisions WHERE complaint_id = $1 AND duplicate_of = $2",
                          [ids[0], ids[1]], on: owner) == 1)

        // And the worker process itself, as that login, routes through the policy.
        try owner.execute("DELETE FROM routing_decisions")
        try setup.expectSuccess("worker", ["worker", "--drain", "--concurrency", "1"])
        #expect(try count("SELECT count(*) FROM routing_decisions WHERE complaint_id = $1", [ids[0]], on: owner) == 1)
        #expect(try count("SELECT count(*) FROM complaints WHERE status = 'assigned'", on: owner) == 2)
    }
}
