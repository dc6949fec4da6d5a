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

        // The worker's side: the statement after its COMMIT sends the wake-up and clears the mark;
        // the next batch (one round trip for its write and commit) wakes the notifier once more.
        _ = try QueueStore.beginBatchWrite(complaintIDs: [], worker: "test:0", duplicates: nil, on: db)
        #expect(try QueueStore.finishAndCommit([], rulesVersion: "test", worker: "test:0", on: db).wakeUpError == nil)
        #expect(try listener.waitForNotifications(timeout: 10).map(\.channel) == ["chikaya_notifications"])
        #expect(try db.query("SELECT current_setting('chikaya.notifications_queued', true)").single().decode(0, as: String.self) == "")
        try submit(2, from: 4, on: db)
        let second = try QueueStore.claim(on: db, limit: 10, worker: "test:0", leaseSeconds: 60, maxAttempts: 5)
        let (held, _) = try QueueStore.beginBatchWrite(complaintIDs: second.map(\.id), worker: "test:0", duplicates: nil, on: db)
        #expect(held.isEmpty)
        let commit = try QueueStore.finishAndCommit(decide(second), rulesVersion: "test", worker: "test:0", on: db)
        #expect(commit.decided == 2)
        #expect(!db.isInTransaction)
        #expect(try listener.waitForNotifications(timeout: 10).count == 1)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE recipient_kind = 'citizen'", on: db) == 5)
        // A batch that queued nothing (an anonymous complaint) wakes nobody.
        try db.query("INSERT INTO complaints (body, arrondissement, anonymous) VALUES ('lampadaire eteint', 'anfa', true)")
        let quiet = try QueueStore.claim(on: db, limit: 10, worker: "test:0", leaseSeconds: 60, maxAttempts: 5)
        _ = try QueueStore.beginBatchWrite(complaintIDs: quiet.map(\.id), worker: "test:0", duplicates: nil, on: db)
        #expect(try QueueStore.finishAndCommit(decide(quiet), rulesVersion: "test", worker: "test:0", on: db).decided == 1)
        #expect(try listener.waitForNotifications(timeout: 1).isEmpty)

        // Any other writer (here a status change by hand) still notifies at its own commit.
        try db.query("UPDATE complaints SET status = 'in_progress' WHERE id = $1", [first[0].id])
        #expect(try listener.waitForNotifications(timeout: 10).count == 1)
    }

    @Test("the intake's notice carries its transaction's id, once per transaction")
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
