@testable import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// How the workers and the notifier are woken (migrations 15 and 16), against the real PostgreSQL cluster.
@Suite("The notifier's wake-up after a routing batch (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct RoutingWakeUpIntegrationTests {
    func decide(_ claimed: [ClaimedComplaint]) -> [RoutingOutcome] {
        claimed.map { RoutingOutcome(complaintID: $0.id, department: "voirie", confidence: 0.9, runnerUp: nil, matchesJSON: "[]") }
    }

    func submit(_ count: Int, from first: Int, on db: PostgresConnection) throws {
        try db.query("""
            INSERT INTO complaints (body, arrondissement, citizen_email)
            SELECT 'nid de poule numero ' || g, 'anfa', 'citizen' || g || '@example.org' FROM generate_series($1::int, $2::int) g
            """, [first, first + count - 1])
    }

    @Test("a batch's own transaction sends no NOTIFY; one wake-up follows its commit; other writers notify as before")
    func batchWakesTheNotifierAfterItsCommit() throws {
        let fixture = try RoutingFixture("wakeup")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        let listener = try fixture.database.connect()
        try listener.listen("chikaya_notifications")

        // The trigger's side: a transaction that says its caller wakes the notifier queues the
        // notification rows, sends nothing at its commit, and leaves the session marked.
        try submit(3, from: 1, on: db)
        let first = try QueueStore.claim(on: db, limit: 10, worker: "test:0", leaseSeconds: 60, maxAttempts: 5)
        #expect(first.count == 3)
        try db.transaction { db in
            try db.query("SELECT set_config('chikaya.notify_after_commit', 'on', true)")
            #expect(try QueueStore.finish(decide(first), rulesVersion: "test", worker: "test:0", on: db).decided == 3)
        }
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE recipient_kind = 'citizen'", on: db) == 3)
        #expect(try listener.waitForNotifications(timeout: 1).isEmpty, "no NOTIFY from the batch's transaction")
        #expect(try db.query("SELECT current_setting('chikaya.notifications_queued', true)").single().decode(0, as: String.self) == "on")

        // The worker's side: the statement after its COMMIT reads and clears the mark, and sends
        // nothing itself; the wake-up goes from a connection of its own, without waiting.
        var configuration = Configuration()
        configuration.databaseURL = fixture.database.url
        let wakeUp = NotifierWakeUp(database: Database(configuration: configuration, role: "worker"), loop: "test:0",
                                    logger: Logger(level: .error, component: "test"))
        _ = try QueueStore.beginBatchWrite(complaintIDs: [], worker: "test:0", duplicates: nil, on: db)
        #expect(try QueueStore.finishAndCommit([], rulesVersion: "test", worker: "test:0", on: db).notificationsQueued)
        #expect(try listener.waitForNotifications(timeout: 1).isEmpty, "no NOTIFY from the loop's own connection")
        #expect(try db.query("SELECT current_setting('chikaya.notifications_queued', true)").single().decode(0, as: String.self) == "")
        wakeUp.send()
        #expect(try listener.waitForNotifications(timeout: 10).map(\.channel) == ["chikaya_notifications"])
        try submit(2, from: 4, on: db)
        let second = try QueueStore.claim(on: db, limit: 10, worker: "test:0", leaseSeconds: 60, maxAttempts: 5)
        let (held, _) = try QueueStore.beginBatchWrite(complaintIDs: second.map(\.id), worker: "test:0", duplicates: nil, on: db)
        #expect(held.isEmpty)
        let commit = try QueueStore.finishAndCommit(decide(second), rulesVersion: "test", worker: "test:0", on: db)
        #expect(commit.decided == 2)
        #expect(commit.notificationsQueued)
        #expect(!db.isInTransaction)
        // Several sent before any came back: one NOTIFY each, all read back without an error.
        wakeUp.send()
        wakeUp.send()
        var woken: [PostgresNotification] = []
        #expect(fixture.eventually(timeout: 10) {
            woken += (try? listener.waitForNotifications(timeout: 0.2)) ?? []
            return woken.count >= 2
        })
        #expect(woken.count == 2)
        wakeUp.collect(waiting: true)
        #expect(wakeUp.outstanding == 0)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE recipient_kind = 'citizen'", on: db) == 5)
        // A batch that queued nothing (an anonymous complaint) has nobody to wake.
        try db.query("INSERT INTO complaints (body, arrondissement, anonymous) VALUES ('lampadaire eteint', 'anfa', true)")
        let quiet = try QueueStore.claim(on: db, limit: 10, worker: "test:0", leaseSeconds: 60, maxAttempts: 5)
        _ = try QueueStore.beginBatchWrite(complaintIDs: quiet.map(\.id), worker: "test:0", duplicates: nil, on: db)
        let quietCommit = try QueueStore.finishAndCommit(decide(quiet), rulesVersion: "test", worker: "test:0", on: db)
        #expect(quietCommit.decided == 1)
        #expect(!quietCommit.notificationsQueued)
        #expect(try listener.waitForNotifications(timeout: 1).isEmpty)
        wakeUp.close()

        // Any other writer (here a status change by hand) still notifies at its own commit.
        try db.query("UPDATE complaints SET status = 'in_progress' WHERE id = $1", [first[0].id])
        #expect(try listener.waitForNotifications(timeout: 10).count == 1)
    }

    @Test("the intake's notice carries its transaction's id, once per transaction; an insert of none sends none")
    func intakeNoticeNamesItsTransaction() throws {
        let fixture = try RoutingFixture("notice")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        let listener = try fixture.database.connect()
        try listener.listen("chikaya_routing")
        let transaction: String = try db.transaction { db in
            try submit(3, from: 1, on: db)
            return try db.query("SELECT pg_current_xact_id()::text").single().decode(0)
        }
        try submit(1, from: 4, on: db)
        var notices: [PostgresNotification] = []
        #expect(fixture.eventually(timeout: 10) {
            notices += (try? listener.waitForNotifications(timeout: 0.2)) ?? []
            return notices.count >= 2
        })
        #expect(notices.count == 2, "one notice per transaction, not per complaint")
        #expect(notices.first?.payload == transaction)
        #expect(notices.last.map { !$0.payload.isEmpty && $0.payload != transaction } == true)
        // One queue entry per complaint, whatever the statements (migration 18 enqueues per
        // statement); a statement that inserts no complaint enqueues nothing and announces nothing.
        try submit(0, from: 5, on: db)
        #expect(try listener.waitForNotifications(timeout: 0.5).isEmpty)
        #expect(try fixture.count("SELECT count(*) FROM routing_queue q JOIN complaints c ON c.id = q.complaint_id", on: db) == 4)
        #expect(try fixture.count("SELECT count(DISTINCT complaint_id) FROM routing_queue", on: db) == 4)
    }

    @Test("a running worker wakes the notifier after the commit of every batch that queued notifications")
    func workerWakesTheNotifierAfterEachBatch() throws {
        let fixture = try RoutingFixture("wakeworker")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        let listener = try fixture.database.connect()
        try listener.listen("chikaya_notifications")
        let worker = try fixture.start(["worker", "--concurrency", "2"])
        // However the complaints fall into batches and loops, the wake-up of the batch that wrote
        // the last notification rows comes after its commit: at some wake-up, every row is there.
        // A wake-up lost, or sent before its batch's commit, leaves this waiting for one that
        // never comes.
        var expected = 0
        for round in [1, 4, 9] {
            try submit(round, from: expected + 1, on: db)
            expected += round
            var seenAll = false
            let deadline = Date().addingTimeInterval(20)
            while !seenAll && Date() < deadline {
                guard try !listener.waitForNotifications(timeout: 0.5).isEmpty else { continue }
                seenAll = try fixture.count("SELECT count(*) FROM notifications WHERE recipient_kind = 'citizen'", on: db) == expected
            }
            #expect(seenAll, "round of \(round): no wake-up after the last notification rows were committed")
        }
        fixture.stop(worker)
        try fixture.expectAllRoutedOnce(expected, on: db)
    }

    @Test("with the poll a minute away, every complaint submitted while two loops run is routed on its notice")
    func noticesAloneKeepTheLoopsRouting() throws {
        let fixture = try RoutingFixture("noticeonly", extraEnvironment: ["CHIKAYA_POLL_SECONDS": "60"])
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        let worker = try fixture.start(["worker", "--concurrency", "2"])
        // The loops claim at start, find nothing, and from then on only a notice (or the poll, a
        // minute away) sends one to claim: a round routed within 20 s was routed on its notice,
        // whichever loop took it, however loaded the machine.
        var expected = 0
        for round in [1, 3, 1, 12, 2] {
            try fixture.submit(count: round)
            expected += round
            #expect(try fixture.eventually(timeout: 20) {
                try fixture.count("SELECT count(*) FROM routing_decisions", on: db) == expected
            }, "round of \(round): routed without waiting for the poll")
        }
        fixture.stop(worker)
        try fixture.expectAllRoutedOnce(expected, on: db)
    }
}
