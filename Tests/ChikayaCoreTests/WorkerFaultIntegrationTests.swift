import Foundation
import Postgres
import Testing
import TestSupport

/// The routing worker when others hold locks or publish rules it cannot load, against the real
/// PostgreSQL cluster.
@Suite("Worker under faults (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct WorkerFaultIntegrationTests {
    /// A second session that begins a transaction and runs `lockSQL` (a `FOR UPDATE`), as a
    /// department's system editing a complaint would; it holds the lock until ROLLBACK.
    func holdLock(in fixture: RoutingFixture, _ lockSQL: String,
                  _ parameters: [(any PostgresBindable)?] = []) throws -> (session: PostgresConnection, locked: PostgresResult) {
        let session = try fixture.database.connect()
        try session.executeScript("BEGIN")
        return (session, try session.query(lockSQL, parameters))
    }

    @Test("one complaint locked elsewhere: the others are routed at once, none dies, it follows once free")
    func lockedComplaintIsIsolated() throws {
        // Two attempts only: counting the lock waits as attempts would kill them within the test.
        let fixture = try RoutingFixture("lockone", extraEnvironment: ["CHIKAYA_MAX_ATTEMPTS": "2"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 50)
        let db = try fixture.database.connect()
        let (other, result) = try holdLock(in: fixture, "SELECT id FROM complaints ORDER BY id LIMIT 1 FOR UPDATE")
        let locked: Int64 = try result.single().decode(0)
        let lockedAt = Date()
        let worker = try fixture.start(["worker", "--concurrency", "1"])
        // While the lock is held: a batch that waited on it would fail after lock_timeout (10 s)
        // and fail again, so none of the 49 would be routed before the lock goes. (Not a timing
        // of speed: 20 s leaves room for a loaded machine.)
        #expect(try fixture.eventually(timeout: 20) {
            try fixture.count("SELECT count(*) FROM routing_decisions", on: db) == 49
        }, "the 49 free complaints are routed while the lock is held")
        #expect(Date().timeIntervalSince(lockedAt) < 25, "the lock was still held")
        // The lock is held for 25 s, well past lock_timeout, and nothing dies meanwhile.
        while Date().timeIntervalSince(lockedAt) < 25 {
            #expect(try fixture.count("SELECT count(*) FROM routing_queue WHERE state = 'dead'", on: db) == 0)
            usleep(500_000)
        }
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions WHERE complaint_id = \(locked)", on: db) == 0)
        try other.executeScript("ROLLBACK")
        #expect(try fixture.eventually(timeout: 15) {
            try fixture.count("SELECT count(*) FROM routing_decisions", on: db) == 50
        }, "the locked complaint is routed once the lock is gone")
        fixture.stop(worker)
        #expect(try fixture.count("SELECT count(*) FROM routing_queue", on: db) == 0)
        try fixture.expectAllRoutedOnce(50, on: db)
        // The batches did link repeats (the texts come back every five complaints): the case
        // where a link to the locked complaint would have waited on its lock was met.
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions WHERE duplicate_of IS NOT NULL", on: db) > 0)
    }

    @Test("a repeat of a complaint a department holds locked is routed and linked at once")
    func repeatOfLockedComplaintIsRouted() throws {
        let fixture = try RoutingFixture("locklink")
        defer { fixture.database.drop() }
        let text = "Les poubelles débordent devant l'école Al Amal, rue 12, ça sent très mauvais"
        try fixture.expectSuccess(["submit", "--text", text, "--arrondissement", "anfa"])
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"])
        let db = try fixture.database.connect()
        let original: Int64 = try db.query("SELECT id FROM complaints").single().decode(0)

        // A department's system holds the assigned complaint (FOR UPDATE, as an edit form would).
        let (other, _) = try holdLock(in: fixture, "SELECT id FROM complaints WHERE id = $1 FOR UPDATE", [original])
        try fixture.expectSuccess(["submit", "--text", text, "--arrondissement", "anfa"])
        // The link names the earlier complaint without sharing its row: a write that waited on
        // the lock would fail after lock_timeout (10 s) and again for as long as it is held, so
        // the drain would not end while it is (the lock is released only after the drain).
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"])
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions WHERE duplicate_of = \(original)", on: db) == 1,
                "the repeat is linked to the locked original")
        #expect(try fixture.count("SELECT count(*) FROM routing_queue", on: db) == 0)
        try other.executeScript("ROLLBACK")
        try fixture.expectAllRoutedOnce(2, on: db)
    }

    @Test("a publication the worker cannot load: decisions keep the version that made them, the worker says so and retries")
    func refusedPublication() throws {
        let fixture = try RoutingFixture("refusedrules", extraEnvironment: ["CHIKAYA_LOG_LEVEL": "info"])
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        let original: String = try db.query("SELECT version FROM rules_publications ORDER BY id DESC LIMIT 1").single().decode(0)
        let worker = try fixture.start(["worker"])

        // As an older program or a hand-made row could store it: a text that does not load, and
        // a valid text under a version that is not its own.
        try db.query("""
            INSERT INTO rules_publications (version, source, file_name, author)
            VALUES ('broken-1', E'threshold = 2\\n[nowhere]\\n3: trottoir\\n', 'broken.conf', 'tests')
            """)
        try fixture.submit(count: 5)
        #expect(try fixture.eventually(timeout: 90) {
            try fixture.count("SELECT count(*) FROM routing_decisions", on: db) == 5
        })
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions WHERE rules_version = '\(original)'", on: db) == 5,
                "decisions carry the version of the rules that made them")
        let status = try fixture.expectSuccess(["queue", "status"])
        #expect(status.stdout.contains("rules refused"), "\(status.stdout)")
        #expect(status.stdout.contains("decisions use      \(original)"), "\(status.stdout)")

        // Publishing valid rules again ends the refusal: the worker switches.
        let shipped = try String(contentsOf: ChikayaBinary.repositoryRoot().appendingPathComponent("config/routing-rules.conf"),
                                 encoding: .utf8)
        try db.query("""
            INSERT INTO rules_publications (version, source, file_name, author) VALUES ('not-its-version', $1, 'x.conf', 'tests')
            """, [shipped])
        let draftPath = NSTemporaryDirectory() + "draft-\(UUID().uuidString).conf"
        try shipped.replacingOccurrences(of: "[circulation]\n", with: "[circulation]\n9: zorglubisme\n")
            .write(toFile: draftPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: draftPath) }
        try fixture.expectSuccess(["rules", "publish", draftPath])
        let draft: String = try db.query("SELECT version FROM rules_publications ORDER BY id DESC LIMIT 1").single().decode(0)
        for i in 0..<3 { try fixture.expectSuccess(["submit", "--text", "zorglubisme devant le numéro \(i)"]) }
        // Two publications to parse and judge first (a debug build on a loaded machine takes
        // seconds each): the bound is generous, the wait ends as soon as the three are routed.
        let switched = try fixture.eventually(timeout: 90) {
            try fixture.count("SELECT count(*) FROM routing_decisions WHERE rules_version = '\(draft)'", on: db) == 3
        }
        if !switched {
            let decisions = try db.query("SELECT rules_version || ' ' || count(*) FROM routing_decisions GROUP BY rules_version").rows
                .map { try $0.decode(0, as: String.self) }
            let outcome = fixture.stop(worker)
            Issue.record("the draft's three complaints were not routed with it; decisions: \(decisions); worker: \(outcome.stderr.suffix(6_000))")
            return
        }
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions WHERE rules_version NOT IN ('\(original)', '\(draft)')", on: db) == 0)
        let after = try fixture.expectSuccess(["queue", "status"])
        #expect(!after.stdout.contains("rules refused"), "\(after.stdout)")

        let outcome = fixture.stop(worker)
        #expect(outcome.stderr.contains("event=rules_publication_refused"), "\(outcome.stderr.suffix(2_000))")
        #expect(outcome.stderr.contains("version=broken-1"))
    }

    @Test("rules publish refuses a file that is not UTF-8 rather than store an altered text")
    func publishRefusesWhatTheWorkerRefuses() throws {
        let fixture = try RoutingFixture("publishrefuses")
        defer { fixture.database.drop() }
        var bytes = Array("threshold = 2\nmargin = 1\n\n[circulation]\n3: trottoir\n".utf8)
        bytes.insert(contentsOf: [0xC3, 0x28], at: bytes.count - 2)
        let path = NSTemporaryDirectory() + "latin-\(UUID().uuidString).conf"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try fixture.chikaya.run(["rules", "publish", path], environment: fixture.environment)
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("nothing was published"))
        let db = try fixture.database.connect()
        #expect(try fixture.count("SELECT count(*) FROM rules_publications", on: db) == 1)
    }
}
