import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// The notifier against a relay that misbehaves on purpose (scripts/peers/faulty_relay.py) and
/// the real PostgreSQL cluster: slow replies, long 4xx outages, idle connections dropped, 421 in
/// the middle of a session, a connection closed right after the final dot.
@Suite("Notifier under relay faults (scripted relay, real PostgreSQL)",
       .enabled(if: TestDatabase.available && MaildirReceiver.available))
struct NotifierFaultIntegrationTests {
    /// Routed complaints with their notifications waiting: `count` complaints give count/4 or so
    /// citizen notifications (see RoutingFixture.submit).
    func routed(_ label: String, count: Int, environment: [String: String]) throws -> (RoutingFixture, PostgresConnection, Int) {
        let fixture = try RoutingFixture(label, extraEnvironment: environment)
        try fixture.submit(count: count)
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        return (fixture, db, try fixture.count("SELECT count(*) FROM notifications", on: db))
    }

    func moveAll(to status: String, on db: PostgresConnection) throws {
        try db.transaction { db in
            try db.query("SELECT set_config('chikaya.actor', 'tests', true), set_config('chikaya.note', 'suite', true)")
            try db.query("UPDATE complaints SET status = $1 WHERE status = 'assigned'", [status])
        }
    }

    @Test("a relay slower than the lease: two notifiers, exactly one copy of each message")
    func slowRelayOneCopy() throws {
        // 2 s before every reply and a 1 s lease: one message takes about 12 s, twelve leases.
        let relay = try FaultyRelay(["--reply-delay", "2"])
        try relay.start()
        let (fixture, db, expected) = try routed("slowrelay", count: 10, environment: [
            "CHIKAYA_SMTP_URL": relay.url(timeout: 10), "CHIKAYA_NOTIFIER_LEASE_SECONDS": "1",
        ])
        defer { fixture.database.drop() }
        #expect(expected == 3)
        let first = try fixture.start(["notifier"])
        usleep(300_000)
        let second = try fixture.start(["notifier"])
        #expect(try fixture.eventually(timeout: 120) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == expected
        })
        // Long enough for a second copy in flight to reach the relay.
        sleep(3)
        for notifier in [first, second] { notifier.signal(SIGTERM) }
        let outcomes = [first, second].map { $0.wait(timeout: 60) }
        let messages = relay.acceptedMessages()
        #expect(messages.count == expected, "each message exactly once: \(relay.attemptedMessageIDs())")
        #expect(Set(messages.compactMap { MaildirReceiver.header("Message-ID", in: $0) }).count == expected)
        for outcome in outcomes {
            #expect(!outcome.stderr.contains("notification_outcome_without_lease"), "\(outcome.stderr.suffix(2_000))")
        }
    }

    @Test("an outcome recorded by a sender that lost its lease is refused, and the caller is told")
    func outcomeWithoutLeaseIsDetected() throws {
        let receiver = try FaultyRelay()
        let (fixture, db, expected) = try routed("nolease", count: 4, environment: ["CHIKAYA_SMTP_URL": receiver.url()])
        defer { fixture.database.drop() }
        #expect(expected == 2)
        let claimed = try NotificationStore.claim(on: db, limit: 10, sender: "a:0", leaseSeconds: 60)
        #expect(claimed.count == 2)
        // As if the lease had run out and another sender had claimed both.
        try db.query("UPDATE notifications SET leased_by = 'b:0'")
        #expect(try NotificationStore.markSent([NotificationStore.Sent(id: claimed[0].id, messageID: "<x@test>", reply: "250 ok")],
                                               sender: "a:0", on: db).isEmpty)
        #expect(try NotificationStore.markRetry(id: claimed[1].id, error: "451", reply: nil, retryAfter: 1, maxAge: 60,
                                                sender: "a:0", on: db) == .leaseLost)
        #expect(try !NotificationStore.markFailed(id: claimed[1].id, error: "550", reply: nil, sender: "a:0", on: db))
        // The group forms used by the notifier say the same, row by row.
        #expect(try NotificationStore.renewLeases(ids: claimed.map(\.id), sender: "a:0", leaseSeconds: 60, on: db).isEmpty)
        #expect(try NotificationStore.markSent(claimed.map { NotificationStore.Sent(id: $0.id, messageID: "<x@test>", reply: "250 ok") },
                                               sender: "a:0", on: db).isEmpty)
        try db.query("UPDATE notifications SET leased_by = 'a:0' WHERE id = $1", [claimed[0].id])
        #expect(try NotificationStore.renewLeases(ids: claimed.map(\.id), sender: "a:0", leaseSeconds: 60, on: db) == [claimed[0].id])
        #expect(try NotificationStore.markSent(claimed.map { NotificationStore.Sent(id: $0.id, messageID: "<x\"q@test>", reply: "250 ok") },
                                               sender: "a:0", on: db) == [claimed[0].id])
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent' AND message_id = '<x\"q@test>'", on: db) == 1)
        try db.query("UPDATE notifications SET leased_by = 'b:0' WHERE id = $1", [claimed[0].id])
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'pending' AND leased_by = 'b:0'", on: db) == 1)
    }

    @Test("a relay answering 451 for hours: retried until the maximum age, then failed with its reply")
    func outageBoundedByAge() throws {
        let relay = try FaultyRelay(["--mail-reply", "451 4.3.0 mailbox busy, try again later"])
        try relay.start()
        // Three claims without an outcome would fail a notification; the relay's 451s are outcomes.
        let (fixture, db, expected) = try routed("outage451", count: 8, environment: [
            "CHIKAYA_SMTP_URL": relay.url(), "CHIKAYA_NOTIFIER_MAX_ATTEMPTS": "3",
        ])
        defer { fixture.database.drop() }
        #expect(expected == 3)
        // The clock moves to each retry's due time (the notifications age by as much), instead of
        // the test waiting through the back-off: eighteen tries cover more than six simulated hours.
        for _ in 0..<18 {
            try fixture.expectSuccess(["notifier", "--drain"])
            try db.query("""
                UPDATE notifications SET created_at = created_at - (next_attempt_at - now()), next_attempt_at = now()
                WHERE status = 'pending'
                """)
        }
        let hours = try db.query("SELECT extract(epoch FROM now() - min(created_at))::float8 / 3600 FROM notifications")
            .single().decode(0, as: Double.self)
        #expect(hours >= 6, "the simulated outage lasted \(hours) h")
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'failed'", on: db) == 0)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'pending' AND attempts >= 18", on: db) == expected)

        // Past the 48 h maximum age, the next 451 fails them for good, with the relay's words.
        try db.query("UPDATE notifications SET created_at = now() - interval '49 hours', next_attempt_at = now()")
        try fixture.expectSuccess(["notifier", "--drain"])
        #expect(try fixture.count("""
            SELECT count(*) FROM notifications WHERE status = 'failed' AND last_reply LIKE '451 4.3.0 mailbox busy%'
            """, on: db) == expected)
        #expect(relay.acceptedMessages().isEmpty)
    }

    @Test("the database lost while a group is on the wire: what was not sent goes again at once, not after the group's lease")
    func unsentGroupHandedBackAfterReconnect() throws {
        // 2 s before every reply: nothing is accepted in the first 12 s of a session.
        let relay = try FaultyRelay(["--reply-delay", "2"])
        try relay.start()
        // Every SMTP phase may take 20 s, so the group's lease (the slowest send, plus 30 s) runs
        // about nine minutes: only rows handed back after the reconnection are sent within two.
        let (fixture, db, expected) = try routed("handback", count: 10, environment: [
            "CHIKAYA_SMTP_URL": relay.url(timeout: 20), "CHIKAYA_NOTIFIER_RETRY_BASE_SECONDS": "0.5",
        ])
        defer { fixture.database.drop() }
        #expect(expected == 3)
        let notifier = try fixture.start(["notifier", "--concurrency", "1"])
        #expect(try fixture.eventually(timeout: 60) {
            try fixture.count("""
                SELECT count(*) FROM notifications WHERE leased_by IS NOT NULL AND next_attempt_at > now() + interval '300 seconds'
                """, on: db) == expected
        }, "the group's lease was taken for the slowest send: it is on the wire")
        // The notifier's backend goes, then the relay (before its first 250): the send fails and
        // its retry cannot be recorded.
        #expect(try fixture.count("""
            SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                                  WHERE datname = current_database() AND application_name = 'chikaya-notifier') t
            """, on: db) == 1)
        relay.stop()
        #expect(relay.acceptedMessages().isEmpty)
        try relay.start()
        #expect(try fixture.eventually(timeout: 120) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == expected
        }, "sent within two minutes of the reconnection, not after the group's lease")
        notifier.signal(SIGTERM)
        let outcome = notifier.wait(timeout: 60)
        #expect(outcome.status == 0)
        #expect(outcome.stderr.contains("notifications_handed_back"), "\(outcome.stderr.suffix(2_000))")
        let ids = relay.acceptedMessages().compactMap { MaildirReceiver.header("Message-ID", in: $0) }
        #expect(ids.count == expected && Set(ids).count == expected, "each message once: \(relay.attemptedMessageIDs())")
    }

    @Test("an idle connection the relay closed: the next message goes at once on a new one")
    func idleConnectionClosedByRelay() throws {
        let relay = try FaultyRelay(["--idle-close", "1"])
        try relay.start()
        // A retry would come ten minutes later at the earliest: only an immediate resend passes.
        let (fixture, db, expected) = try routed("idleclose", count: 8, environment: [
            "CHIKAYA_SMTP_URL": relay.url(), "CHIKAYA_NOTIFIER_RETRY_BASE_SECONDS": "1200",
        ])
        defer { fixture.database.drop() }
        #expect(expected == 3)
        let notifier = try fixture.start(["notifier"])
        #expect(try fixture.eventually(timeout: 30) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == expected
        })
        sleep(2) // the relay drops the idle connection after 1 s
        try moveAll(to: "in_progress", on: db)
        #expect(try fixture.eventually(timeout: 20) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == 2 * expected
        })
        notifier.signal(SIGTERM)
        let outcome = notifier.wait(timeout: 30)
        #expect(outcome.status == 0)
        #expect(!outcome.stderr.contains("notification_retry"), "\(outcome.stderr.suffix(2_000))")
        #expect(relay.acceptedMessages().count == 2 * expected)
    }
}
