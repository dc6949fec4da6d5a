import Foundation
import Postgres
import Testing
import TestSupport

/// Proofs under faults with real peers: the relay process stopped and restarted under two
/// notifiers, a relay that says 421 mid-session or hangs up right after the final dot, and the
/// PostgreSQL server restarted while a worker and two notifiers run.
@Suite("Fault proofs: relay outage, relay hang-ups, PostgreSQL restart",
       .enabled(if: TestDatabase.available && MaildirReceiver.available))
struct FaultProofIntegrationTests {
    /// Complaints submitted for the outage proof: about 4 in 15 have an email, so 7,500 give
    /// 2,000 notifications. CHIKAYA_TEST_OUTAGE_COMPLAINTS lowers it on a slow machine.
    static let outageComplaints = Int(ProcessInfo.processInfo.environment["CHIKAYA_TEST_OUTAGE_COMPLAINTS"] ?? "") ?? 7_500

    func messageIDs(_ messages: [String]) -> [String] {
        messages.compactMap { MaildirReceiver.header("Message-ID", in: $0) }
    }

    @Test("the relay process stopped and restarted under two notifiers: every message once, none failed")
    func relayOutageTwoNotifiers() throws {
        let receiver = try MaildirReceiver.started()
        let fixture = try RoutingFixture("relayoutage", extraEnvironment: [
            "CHIKAYA_SMTP_URL": receiver.url + "&timeout=5", "CHIKAYA_NOTIFIER_RETRY_BASE_SECONDS": "1",
        ])
        defer { fixture.database.drop() }
        try fixture.submit(count: Self.outageComplaints)
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        let expected = try fixture.count("SELECT count(*) FROM notifications", on: db)
        #expect(expected >= Self.outageComplaints / 4)
        let notifiers = try (0..<2).map { _ in try fixture.start(["notifier", "--concurrency", "2"]) }
        #expect(try fixture.eventually(timeout: 120) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) >= expected / 10
        })
        receiver.stop()
        let sentWhenStopped = try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db)
        sleep(10)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE last_error IS NOT NULL AND status = 'pending'", on: db) > 0,
                "the notifiers met the outage")
        try receiver.start()
        #expect(try fixture.eventually(timeout: 300) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) == expected
        })
        for notifier in notifiers { notifier.signal(SIGTERM) }
        for outcome in notifiers.map({ $0.wait(timeout: 60) }) {
            #expect(outcome.status == 0, "\(outcome.stderr.suffix(1_000))")
        }
        #expect(sentWhenStopped < expected, "the outage came while messages were waiting")
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'failed'", on: db) == 0)
        let ids = messageIDs(receiver.rawMessages())
        #expect(ids.count == expected, "every message arrived")
        #expect(Set(ids).count == expected, "none twice (by Message-ID)")
    }

    /// A relay started with `relayOptions` (FaultyRelay's), and 20 complaints routed in a
    /// database of their own: their notifications wait for a notifier to send them through it.
    struct RelayProof {
        let relay: FaultyRelay
        let fixture: RoutingFixture
        let db: PostgresConnection
        let expected: Int
    }

    /// The database is the caller's to drop (`fixture.database.drop()`), once this returns.
    func routedBehindRelay(_ label: String, relayOptions: [String]) throws -> RelayProof {
        let relay = try FaultyRelay(relayOptions)
        try relay.start()
        let fixture = try RoutingFixture(label, extraEnvironment: ["CHIKAYA_SMTP_URL": relay.url(),
                                                                   "CHIKAYA_NOTIFIER_RETRY_BASE_SECONDS": "0.5"])
        do {
            try fixture.submit(count: 20)
            try fixture.expectSuccess(["worker", "--drain"])
            let db = try fixture.database.connect()
            return RelayProof(relay: relay, fixture: fixture, db: db,
                              expected: try fixture.count("SELECT count(*) FROM notifications", on: db))
        } catch {
            fixture.database.drop()
            throw error
        }
    }

    /// Runs one notifier until every notification of `proof` is sent, then stops it.
    @discardableResult
    func sendAll(_ proof: RelayProof, sourceLocation: SourceLocation = #_sourceLocation) throws -> ChikayaBinary.Outcome {
        let notifier = try proof.fixture.start(["notifier"])
        #expect(try proof.fixture.eventually(timeout: 60) {
            try proof.fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: proof.db) == proof.expected
        }, sourceLocation: sourceLocation)
        return proof.fixture.stop(notifier, sourceLocation: sourceLocation)
    }

    @Test("421 from the relay in the middle of a session: the next message goes again on a new session")
    func relaySays421MidSession() throws {
        let proof = try routedBehindRelay("relay421", relayOptions: ["--421-after", "1"])
        defer { proof.fixture.database.drop() }
        let expected = proof.expected
        #expect(expected == 6)
        try sendAll(proof)
        let ids = messageIDs(proof.relay.acceptedMessages())
        #expect(ids.count == expected)
        #expect(Set(ids).count == expected)
        let recorded: [String] = try proof.db.query("SELECT message_id FROM notifications ORDER BY id").rows.map { try $0.decode(0) }
        #expect(Set(recorded) == Set(ids), "the Message-ID recorded is the one delivered")
    }

    @Test("a relay that hangs up right after the final dot: the message is sent again with the same Message-ID")
    func relayHangsUpAfterFinalDot() throws {
        let proof = try routedBehindRelay("relaydot", relayOptions: ["--close-after-dot", "2"])
        defer { proof.fixture.database.drop() }
        let expected = proof.expected
        let outcome = try sendAll(proof)
        #expect(outcome.stderr.contains("event=notification_retry") && outcome.stderr.contains("kind=connectionClosed"))
        let attempted = proof.relay.attemptedMessageIDs()
        let accepted = messageIDs(proof.relay.acceptedMessages())
        #expect(attempted.count == expected + 2, "\(attempted)")
        let repeated = Set(attempted.filter { id in attempted.filter { $0 == id }.count == 2 })
        #expect(repeated.count == 2, "the two cut-off messages were sent again under the same Message-ID")
        #expect(repeated.isSubset(of: Set(accepted)))
        #expect(accepted.count == expected)
        #expect(Set(accepted).count == expected)
    }
}

@Suite("Fault proofs: PostgreSQL restarted under a worker and two notifiers",
       .enabled(if: TestCluster.available && MaildirReceiver.available))
struct DatabaseRestartProofIntegrationTests {
    @Test("the server restarts while a worker routes and two notifiers send: nothing lost, nothing twice")
    func restartUnderWorkerAndNotifiers() throws {
        let cluster = try TestCluster()
        defer { cluster.destroy() }
        let receiver = try MaildirReceiver.started()
        let fixture = try RoutingFixture("pgrestart", url: cluster.url, extraEnvironment: [
            "CHIKAYA_SMTP_URL": receiver.url + "&timeout=5", "CHIKAYA_NOTIFIER_RETRY_BASE_SECONDS": "0.5",
            "CHIKAYA_NOTIFIER_LEASE_SECONDS": "3", "CHIKAYA_LEASE_SECONDS": "3",
        ])
        try fixture.submit(count: 600)
        let db = try PostgresConnection.connect(url: cluster.url, applicationName: "tests")
        let worker = try fixture.start(["worker", "--batch", "10", "--concurrency", "2"],
                                       environment: ["CHIKAYA_TEST_SLOW_CLASSIFY_MS": "10"])
        // Slowed down, so the restart finds messages on their way out.
        let notifiers = try (0..<2).map { _ in try fixture.start(["notifier"], environment: ["CHIKAYA_NOTIFIER_RATE": "40"]) }
        #expect(try fixture.eventually(timeout: 120) {
            try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent'", on: db) >= 10
        })
        try cluster.restart()
        let fresh = try PostgresConnection.connect(url: cluster.url, applicationName: "tests")
        #expect(try fixture.eventually(timeout: 240) {
            try fixture.count("SELECT count(*) FROM routing_queue", on: fresh) == 0
                && fixture.count("SELECT count(*) FROM notifications WHERE status <> 'sent'", on: fresh) == 0
        })
        for child in [worker] + notifiers { child.signal(SIGTERM) }
        var restartSeen = false
        for outcome in ([worker] + notifiers).map({ $0.wait(timeout: 60) }) {
            #expect(outcome.status == 0, "\(outcome.stderr.suffix(1_500))")
            restartSeen = restartSeen || outcome.stderr.contains("database_reconnected")
        }
        #expect(restartSeen)
        try fixture.expectAllRoutedOnce(600, on: fresh)
        let expected = try fixture.count("SELECT count(*) FROM notifications", on: fresh)
        let ids = receiver.rawMessages().compactMap { MaildirReceiver.header("Message-ID", in: $0) }
        #expect(ids.count == expected, "every notification sent once")
        #expect(Set(ids).count == expected)
    }
}
