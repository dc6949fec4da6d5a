import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// Stores inside a caller's transaction, and the digest's claim, against the real PostgreSQL cluster.
@Suite("Transactions and claims of the stores (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct StoreTransactionIntegrationTests {
    @Test("a departments sync whose last line the database refuses changes nothing")
    func syncIsAllOrNothing() throws {
        let fixture = try RoutingFixture("syncatomic")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        // The database's own rule, which the file's parser cannot know: this address is refused.
        try db.executeScript("""
            CREATE FUNCTION refuse_test_address() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.email = 'refused@example.org' THEN RAISE EXCEPTION 'address refused by policy'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_test_address BEFORE INSERT OR UPDATE ON department_contacts
                FOR EACH ROW EXECUTE FUNCTION refuse_test_address();
            """)
        let before = try fixture.count("SELECT count(*) FROM department_contacts", on: db)
        let settings: String = try db.query("SELECT string_agg(code || working_language || coalesce(first_action_days, 0), ',' ORDER BY code) FROM departments").single().decode(0)
        let path = NSTemporaryDirectory() + "departments-\(UUID().uuidString).conf"
        try """
            [proprete]
            language = ar
            first_action_days = 3
            contact = proprete@example.org
            [voirie]
            contact = voirie@example.org
            contact anfa = refused@example.org
            """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try fixture.chikaya.run(["departments", "sync", path], environment: fixture.environment)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("address refused by policy"), "\(outcome.stderr)")
        #expect(try fixture.count("SELECT count(*) FROM department_contacts", on: db) == before)
        #expect(try fixture.count("SELECT count(*) FROM department_contact_changes", on: db) == 0)
        let after: String = try db.query("SELECT string_agg(code || working_language || coalesce(first_action_days, 0), ',' ORDER BY code) FROM departments").single().decode(0)
        #expect(after == settings)
    }

    @Test("a claim is committed at once and seen by others, and leaves the session's durable commits as they were")
    func claimCommitsWithoutLeakingItsCommitMode() throws {
        let fixture = try RoutingFixture("claimcommit")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        let other = try fixture.database.connect()
        try db.query("INSERT INTO complaints (body, arrondissement) SELECT 'nid de poule numero ' || g, 'anfa' FROM generate_series(1, 3) g")
        // The test cluster runs without synchronous commits; this session asks for them, as a
        // city's server gives them.
        try db.executeScript("SET synchronous_commit = on")
        let claimed = try QueueStore.claim(on: db, limit: 2, worker: "test:0", leaseSeconds: 60, maxAttempts: 5)
        #expect(claimed.count == 2)
        #expect(claimed.allSatisfy { $0.attempts == 1 && $0.body.hasPrefix("nid de poule") })
        #expect(!db.isInTransaction, "the claim is its own transaction, committed")
        // Another session sees the lease at once.
        #expect(try fixture.count("SELECT count(*) FROM routing_queue WHERE leased_by = 'test:0' AND attempts = 1", on: other) == 2)
        // The claim's commit mode was its own transaction's: what follows on the connection (the
        // decision) waits for the disk again.
        let mode: String = try db.query("SHOW synchronous_commit").single().decode(0)
        #expect(mode == "on")
        // The rest of the queue is claimed next, and nothing twice.
        let rest = try QueueStore.claim(on: db, limit: 10, worker: "test:0", leaseSeconds: 60, maxAttempts: 5)
        #expect(rest.count == 1)
        #expect(Set(claimed.map(\.id) + rest.map(\.id)).count == 3)
    }

    @Test("a store called inside a caller's transaction commits nothing on its own")
    func nestedTransactionIsASavepoint() throws {
        let fixture = try RoutingFixture("nested")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try db.transaction { db in
                _ = try DepartmentContactStore.setContact(department: "proprete", arrondissement: nil, email: "p@example.org", on: db)
                #expect(db.isInTransaction, "the caller's transaction is still open after the store's own")
                throw Abort()
            }
        }
        #expect(!db.isInTransaction)
        #expect(try fixture.count("SELECT count(*) FROM department_contacts", on: db) == 0)
        // An inner failure undoes only the inner work.
        try db.transaction { db in
            try db.query("UPDATE departments SET working_language = 'ar' WHERE code = 'voirie'")
            _ = try? db.transaction { db in
                try db.query("UPDATE departments SET working_language = 'ar' WHERE code = 'proprete'")
                throw Abort()
            }
        }
        #expect(try fixture.count("SELECT count(*) FROM departments WHERE working_language = 'ar' AND code = 'voirie'", on: db) == 1)
        #expect(try fixture.count("SELECT count(*) FROM departments WHERE working_language = 'ar' AND code = 'proprete'", on: db) == 0)
    }

    @Test("a digest left in 'sending' by an interrupted run is sent by a later run once its lease is over",
          .enabled(if: MaildirReceiver.available))
    func interruptedDigestIsResent() throws {
        let fixture = try RoutingFixture("digestlease")
        defer { fixture.database.drop() }
        let receiver = try MaildirReceiver.started()
        defer { receiver.stop() }
        try fixture.expectSuccess(["departments", "set-contact", "proprete", "proprete@example.org"])
        try fixture.expectSuccess(["departments", "set-contact", "voirie", "voirie@example.org"])
        try fixture.expectSuccess(["submit", "--text", "Les poubelles débordent rue 1"])
        try fixture.expectSuccess(["submit", "--text", "Nid de poule énorme sur l'avenue 2"])
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        let day: String = try db.query("SELECT (now() AT TIME ZONE 'Africa/Casablanca')::date::text").single().decode(0)
        // Two runs that died after their claim: one hours ago (its lease is over), one just now.
        try db.query("""
            INSERT INTO digests_sent (department, office, day, recipient, state, sent_at)
            VALUES ('proprete', '', $1::date, 'proprete@example.org', 'sending', now() - interval '3 hours'),
                   ('voirie', '', $1::date, 'voirie@example.org', 'sending', now())
            """, [day])
        let run = try fixture.expectSuccess(["digest", "--send"], environment: ["CHIKAYA_SMTP_URL": receiver.smtpURL])
        #expect(run.stdout.contains("proprete (default office): sent to proprete@example.org"), "\(run.stdout)")
        #expect(!run.stdout.contains("sent to voirie@example.org"), "a claim still in its lease is left alone")
        #expect(try fixture.count("SELECT count(*) FROM digests_sent WHERE state = 'sent' AND department = 'proprete'", on: db) == 1)
        #expect(try receiver.decodedMessages().filter { $0["To"] == "proprete@example.org" }.count == 1)
    }

    @Test("a worker session plans through indexes and never JIT-compiles the scans it cannot avoid")
    func workerSessionAvoidsJIT() throws {
        let fixture = try RoutingFixture("sessionjit")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        // A text search no index serves: a sequential scan is the only plan, and enable_seqscan = off
        // adds a cost to it that crosses jit_above_cost.
        let sql = "EXPLAIN SELECT count(*) FROM complaints WHERE body LIKE '%lampadaire%'"
        func plan() throws -> String {
            try db.query(sql).rows.map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
        }
        let jitAvailable: Bool = try db.query("SELECT pg_jit_available()").single().decode(0)
        try db.executeScript("SET enable_seqscan = off")
        if jitAvailable {
            // Without the session's JIT setting this plan would be compiled on every run.
            let unprepared = try plan()
            #expect(unprepared.contains("JIT"), "\(unprepared)")
        }
        try QueueStore.prepareSession(on: db)
        let prepared = try plan()
        #expect(!prepared.contains("JIT"), "\(prepared)")
        let jit: String = try db.query("SHOW jit").single().decode(0)
        #expect(jit == "off")
    }
}
