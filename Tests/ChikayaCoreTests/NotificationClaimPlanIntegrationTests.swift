@testable import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// How the notifier's claim looks for notifications claimed too often, with a backlog waiting
/// (real PostgreSQL, through a notifier login, so row-level security is in the plan as in service).
@Suite("The notifier's claim with a backlog (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct NotificationClaimPlanIntegrationTests {
    @Test("the notifications claimed too often are found through their own index, not by reading the backlog; outcomes recorded row by row")
    func exhaustedLookupUsesItsIndex() throws {
        let fixture = try RoutingFixture("claimplan")
        let login = try TestLogin("claimplan", in: ["chikaya_notifier"])
        defer {
            fixture.database.drop()
            login.drop()
        }
        let owner = try fixture.database.connect()
        // A backlog: 5,000 citizens' notifications waiting, a few held by senders, one of them
        // claimed three times without an outcome.
        try owner.executeScript("""
            INSERT INTO complaints (body, arrondissement, citizen_email)
                SELECT 'Nid de poule rue ' || n, 'anfa', 'citizen' || n || '@example.org' FROM generate_series(1, 5000) n;
            DELETE FROM routing_queue;
            UPDATE complaints SET status = 'assigned', department = 'voirie';
            UPDATE notifications SET unanswered_claims = 1, leased_by = 'elsewhere', next_attempt_at = now() + interval '1 hour'
                WHERE id % 500 = 0;
            UPDATE notifications SET unanswered_claims = 3, next_attempt_at = now() - interval '1 minute'
                WHERE id = (SELECT min(id) FROM notifications);
            """)
        try owner.executeScript("VACUUM ANALYZE notifications")
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'pending'", on: owner) == 5000)

        let notifier = try login.connect(fixture.database)
        try notifier.query("PREPARE claim_plan(bigint, text, float8, bigint) AS " + NotificationStore.claimSQL)
        let text: String = try notifier.query("EXPLAIN (FORMAT JSON) EXECUTE claim_plan(100, 'plan-test', 60, 3)").single().decode(0)
        let exhausted = try #require(try PlanNode(json: text)?.subplan(named: "CTE exhausted")?.scans)
        #expect(exhausted.contains { $0.relation == "notifications" && $0.index == "notifications_unanswered" }, "\(exhausted)")
        #expect(!exhausted.contains { $0.type == "Seq Scan" }, "\(exhausted)")

        // And the claim itself: the one claimed three times fails, 100 others are claimed.
        let claimed = try NotificationStore.claim(on: notifier, limit: 100, sender: "plan-test", leaseSeconds: 60, maxAttempts: 3)
        #expect(claimed.count == 100)
        #expect(try fixture.count("""
            SELECT count(*) FROM notifications WHERE status = 'failed' AND last_error LIKE '%no outcome recorded after 3 attempts%'
            """, on: owner) == 1)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE leased_by = 'plan-test' AND unanswered_claims = 1", on: owner) == 100)

        // Their outcomes, recorded in one statement in another order: each row its own values;
        // one held elsewhere meanwhile is not recorded.
        let lost = claimed[7].id
        try owner.query("UPDATE notifications SET leased_by = 'elsewhere' WHERE id = $1", [lost])
        let sends = claimed.reversed().map { NotificationStore.Sent(id: $0.id, messageID: "<n\($0.id)@test>", reply: "250 2.0.0 queued as \($0.id)") }
        let recorded = try NotificationStore.markSent(sends, sender: "plan-test", on: notifier)
        #expect(recorded == Set(claimed.map(\.id)).subtracting([lost]))
        #expect(try fixture.count("""
            SELECT count(*) FROM notifications
            WHERE status = 'sent' AND message_id = '<n' || id || '@test>' AND last_reply = '250 2.0.0 queued as ' || id
              AND unanswered_claims = 0 AND last_error IS NULL
            """, on: owner) == 99)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE id = \(lost) AND status = 'pending' AND message_id IS NULL", on: owner) == 1)
    }
}
