import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Notifier end to end with a real SMTP receiver",
       .enabled(if: TestDatabase.available && MaildirReceiver.available))
struct NotifierIntegrationTests {
    /// Moves complaints on through the lifecycle the way a department's system would: a plain
    /// UPDATE with the actor and note as transaction settings.
    func move(_ ids: [Int64], to status: String, note: String, on db: PostgresConnection) throws {
        try db.transaction { db in
            try db.query("SELECT set_config('chikaya.actor', 'tests', true), set_config('chikaya.note', $1, true)", [note])
            for id in ids {
                try db.query("UPDATE complaints SET status = $1 WHERE id = $2", [status, id])
            }
        }
    }

    @Test("each citizen with an email gets exactly one message per status change; anonymous ones none")
    func oneEmailPerStatusChange() throws {
        let receiver = try MaildirReceiver()
        try receiver.start()
        let fixture = try RoutingFixture("notify", extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url,
                                                                       "CHIKAYA_MAIL_FROM": "Chikaya <no-reply@chikaya.test>"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 30)
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        let withEmail: [Int64] = try db.query("SELECT id FROM complaints WHERE citizen_email IS NOT NULL ORDER BY id")
            .rows.map { try $0.decode(0) }
        #expect(withEmail.count == 8)
        let moved = Array(withEmail.prefix(3)) + [try db.query("SELECT id FROM complaints WHERE anonymous LIMIT 1").single().decode(0)]
        try move(moved, to: "in_progress", note: "équipe envoyée", on: db)
        try move([moved[0]], to: "resolved", note: "fait", on: db)

        let outcome = try fixture.expectSuccess(["notifier", "--drain"])
        #expect(!outcome.stderr.contains("@example.org"), "citizen addresses stay out of the logs")

        let messages = receiver.rawMessages()
        #expect(messages.count == 8 + 3 + 1)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent' AND message_id IS NOT NULL", on: db) == 12)
        var perRecipient: [String: Int] = [:]
        for message in messages {
            let to = MaildirReceiver.header("To", in: message) ?? "?"
            perRecipient[to, default: 0] += 1
            #expect(MaildirReceiver.header("Auto-Submitted", in: message) == "auto-generated")
        }
        let expected: [(Int64, Int)] = try db.query("""
            SELECT c.id, count(e.id)::int FROM complaints c JOIN complaint_events e ON e.complaint_id = c.id
            WHERE c.citizen_email IS NOT NULL GROUP BY c.id
            """).rows.map { (try $0.decode(0), try $0.decode(1)) }
        for (id, events) in expected {
            let email: String = try db.query("SELECT citizen_email FROM complaints WHERE id = $1", [id]).single().decode(0)
            #expect(perRecipient[email] == events, "\(email) should get one email per change")
        }
        #expect(Set(messages.compactMap { MaildirReceiver.header("Message-ID", in: $0) }).count == messages.count)

        let again = try fixture.expectSuccess(["notifier", "--drain"])
        #expect(again.status == 0)
        #expect(receiver.rawMessages().count == 12, "a second run sends nothing again")
    }

    @Test("with the relay down for a while, every message arrives once after it comes back")
    func relayOutage() throws {
        let receiver = try MaildirReceiver()
        let fixture = try RoutingFixture("outage", extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url,
                                                                       "CHIKAYA_NOTIFIER_RETRY_BASE_SECONDS": "0.5"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 15)
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        let expected = try fixture.count("SELECT count(*) FROM notifications", on: db)
        #expect(expected == 4)

        let notifier = try fixture.start(["notifier"])
        #expect(try fixture.eventually(timeout: 30) {
            try fixture.count("SELECT count(*) FROM notifications WHERE attempts >= 2 AND last_error IS NOT NULL", on: db) == expected
        }, "the notifier retries while the relay is down")
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'pending'", on: db) == expected)

        try receiver.start()
        #expect(try fixture.eventually(timeout: 60) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == expected
        })
        notifier.signal(SIGTERM)
        let outcome = notifier.wait(timeout: 20)
        #expect(outcome.status == 0)
        #expect(outcome.stderr.contains("notification_retry"))
        #expect(receiver.rawMessages().count == expected)
        receiver.stop()
    }

    @Test("an idle notifier with the poll a minute away stops at once on SIGTERM")
    func idleNotifierStopsAtOnce() throws {
        let receiver = try MaildirReceiver.started()
        let fixture = try RoutingFixture("idlestop", extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url,
                                                                        "CHIKAYA_POLL_SECONDS": "60"])
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        let notifier = try fixture.start(["notifier", "--concurrency", "1"])
        // Idle: its loop has claimed nothing and waits for a notice (or the poll, a minute away).
        #expect(try fixture.eventually(timeout: 30) {
            try fixture.count("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = 'chikaya-notifier' AND state = 'idle'
                """, on: db) >= 1
        })
        usleep(500_000)
        notifier.signal(SIGTERM)
        // Well before the poll would end; a notifier still asleep in it is killed at 20 s (137).
        let outcome = notifier.wait(timeout: 20)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(1_000))")
        receiver.stop()
    }

    @Test("draining, a notification another session holds is retried in a moment, not after the poll")
    func drainWaitsForHeldRowsBriefly() throws {
        let receiver = try MaildirReceiver.started()
        let fixture = try RoutingFixture("drainheld", extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url,
                                                                         "CHIKAYA_POLL_SECONDS": "60"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 15)
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        let expected = try fixture.count("SELECT count(*) FROM notifications", on: db)
        #expect(expected >= 2)
        // Another session holds one due notification, as a loop does between its claim and the
        // claim's commit: the drain's claims skip it while it is still due.
        let holder = try fixture.database.connect()
        try holder.executeScript("BEGIN")
        try holder.query("SELECT id FROM notifications ORDER BY id LIMIT 1 FOR UPDATE")
        let notifier = try fixture.start(["notifier", "--drain", "--concurrency", "1"])
        #expect(try fixture.eventually(timeout: 30) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == expected - 1
        })
        usleep(300_000)
        try holder.executeScript("COMMIT")
        // Sent and done well before the poll's minute: killed at 20 s otherwise (137).
        let outcome = notifier.wait(timeout: 20)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(1_000))")
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == expected)
        receiver.stop()
    }

    @Test("two notifiers, a lease shorter than a batch takes: every message is still sent once")
    func leaseShorterThanABatch() throws {
        let receiver = try MaildirReceiver.started()
        // 0.2 s a message and a 1 s lease: a batch of 7 outlasts its lease several times over.
        let fixture = try RoutingFixture("lease", extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url,
                                                                     "CHIKAYA_NOTIFIER_LEASE_SECONDS": "1",
                                                                     "CHIKAYA_NOTIFIER_RATE": "5"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 40)
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        let expected = try fixture.count("SELECT count(*) FROM notifications", on: db)
        #expect(expected >= 10)
        // Both keep running (no --drain), so the second one claims whatever lease runs out.
        let first = try fixture.start(["notifier"])
        usleep(300_000)
        let second = try fixture.start(["notifier"])
        #expect(try fixture.eventually(timeout: 60) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == expected
        })
        usleep(1_500_000)
        for notifier in [first, second] { notifier.signal(SIGTERM) }
        for outcome in [first, second].map({ $0.wait(timeout: 30) }) {
            #expect(outcome.status == 0, "\(outcome.stderr.suffix(1_000))")
        }
        let messages = receiver.rawMessages()
        #expect(messages.count == expected, "no message may be sent twice")
        #expect(Set(messages.compactMap { MaildirReceiver.header("Message-ID", in: $0) }).count == messages.count)
    }

    @Test("a notification claimed again and again without an outcome fails for good")
    func claimedTooOftenFails() throws {
        let receiver = try MaildirReceiver.started()
        let fixture = try RoutingFixture("exhausted", extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url,
                                                                         "CHIKAYA_NOTIFIER_MAX_ATTEMPTS": "3"])
        defer { fixture.database.drop() }
        try fixture.expectSuccess(["submit", "--file", "-"],
                                  stdin: "text\temail\nLampadaire éteint rue 9\ta@example.org\nLampadaire éteint rue 10\tb@example.org\n")
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        // As if a sender had died three times holding the first one.
        try db.query("UPDATE notifications SET attempts = 3, unanswered_claims = 3 WHERE recipient = 'a@example.org'")
        try fixture.expectSuccess(["notifier", "--drain"])
        #expect(try fixture.count("""
            SELECT count(*) FROM notifications
            WHERE recipient = 'a@example.org' AND status = 'failed' AND last_error LIKE '%no outcome recorded after 3 attempts%'
            """, on: db) == 1)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE recipient = 'b@example.org' AND status = 'sent'", on: db) == 1)
        #expect(receiver.rawMessages().count == 1)
    }

    @Test("a permanently refused address is recorded as failed, not retried")
    func invalidAddressFailsOnce() throws {
        let receiver = try MaildirReceiver()
        try receiver.start()
        let fixture = try RoutingFixture("badaddress", extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url])
        defer { fixture.database.drop() }
        try fixture.expectSuccess(["submit", "--file", "-"], stdin: "text\temail\nLampadaire éteint depuis une semaine\tnot an address\n")
        try fixture.expectSuccess(["worker", "--drain"])
        try fixture.expectSuccess(["notifier", "--drain"])
        let db = try fixture.database.connect()
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'failed' AND attempts = 1", on: db) == 1)
        let status = try fixture.expectSuccess(["notifications", "status"])
        #expect(status.stdout.contains("citizen"))
        #expect(status.stdout.contains("last failures:"))
        #expect(receiver.rawMessages().isEmpty)
    }
}
