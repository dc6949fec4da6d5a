import Foundation
import Postgres
import Testing
import TestSupport

/// A database of its own, migrated and with the shipped rules published, for one worker test.
struct RoutingFixture {
    let database: TestDatabase
    let chikaya = ChikayaBinary.locate()
    let environment: [String: String]

    init(_ label: String, url: String? = nil, extraEnvironment: [String: String] = [:]) throws {
        database = try TestDatabase(label)
        // An empty configuration file: the tests see the program's defaults, not the example
        // configuration of config/ (the binary runs from the repository's root).
        let emptyConfiguration = NSTemporaryDirectory() + "chikaya-tests-empty.conf"
        try Data().write(to: URL(fileURLWithPath: emptyConfiguration))
        var environment = ["DATABASE_URL": url ?? database.url, "CHIKAYA_LOG_LEVEL": "info", "CHIKAYA_POLL_SECONDS": "0.2",
                           "CHIKAYA_CONFIG": emptyConfiguration]
        for (key, value) in extraEnvironment { environment[key] = value }
        self.environment = environment
        try expectSuccess(["migrate"])
        try expectSuccess(["rules", "publish", "config/routing-rules.conf"])
    }

    @discardableResult
    func expectSuccess(_ arguments: [String], environment extra: [String: String] = [:], stdin: String? = nil) throws -> ChikayaBinary.Outcome {
        let outcome = try chikaya.run(arguments, environment: environment.merging(extra) { $1 }, stdin: stdin)
        if outcome.status != 0 {
            Issue.record("chikaya \(arguments.joined(separator: " ")) exited \(outcome.status): \(outcome.stderr)")
        }
        return outcome
    }

    func start(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ChikayaBinary.Child {
        try chikaya.start(arguments, environment: environment.merging(extra) { $1 })
    }

    /// Submits one complaint through `chikaya submit` and returns its reference.
    func submit(_ text: String, arrondissement: String) throws -> String {
        let out = try expectSuccess(["submit", "--text", text, "--arrondissement", arrondissement])
        return try #require(out.stdout.split(separator: "\n").last.map(String.init)?.split(separator: " ").last.map(String.init))
    }

    /// Writes `count` complaints to a TSV file: a few kinds of text, every third with an email,
    /// every fifth anonymous.
    func submit(count: Int, marker: (Int) -> String? = { _ in nil }) throws {
        let texts = [
            "Les poubelles débordent depuis une semaine rue %d",
            "الضو ديال الزنقة %d مطفي هادي شهر",
            "zbel ma tjme3ch f derb %d",
            "Nid de poule énorme sur l'avenue %d",
            "مشكل فالحالة المدنية رقم %d",
        ]
        var tsv = "id\tlang\tarrondissement\tdepartment\ttext\tanonymous\temail\n"
        for i in 0..<count {
            var text = String(format: texts[i % texts.count], i)
            if let extra = marker(i) { text += " " + extra }
            let anonymous = i % 5 == 4
            let email = !anonymous && i % 3 == 0 ? "citizen\(i)@example.org" : ""
            tsv += "k\(i)\tfr\tanfa\t\t\(text)\t\(anonymous)\t\(email)\n"
        }
        let path = NSTemporaryDirectory() + "complaints-\(UUID().uuidString).tsv"
        try tsv.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try expectSuccess(["submit", "--file", path, "--quiet"])
    }

    /// Stops a worker or notifier with SIGTERM and expects it to end cleanly within 30 s.
    @discardableResult
    func stop(_ child: ChikayaBinary.Child, sourceLocation: SourceLocation = #_sourceLocation) -> ChikayaBinary.Outcome {
        child.signal(SIGTERM)
        let outcome = child.wait(timeout: 30)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(1_000))", sourceLocation: sourceLocation)
        return outcome
    }

    func count(_ sql: String, on db: PostgresConnection) throws -> Int {
        try db.query(sql).single().decode(0, as: Int.self)
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` seconds pass.
    func eventually(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    /// Every complaint routed exactly once: one decision, one event out of 'received', no queue
    /// entry, and one notification exactly for those with an email.
    func expectAllRoutedOnce(_ expected: Int, on db: PostgresConnection, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try count("SELECT count(*) FROM complaints", on: db) == expected, sourceLocation: sourceLocation)
        #expect(try count("SELECT count(*) FROM routing_decisions", on: db) == expected, sourceLocation: sourceLocation)
        #expect(try count("SELECT count(*) FROM complaints WHERE status = 'assigned' AND department IS NOT NULL", on: db) == expected,
                sourceLocation: sourceLocation)
        #expect(try count("SELECT count(*) FROM complaint_events WHERE from_status = 'received' AND to_status = 'assigned'", on: db) == expected,
                sourceLocation: sourceLocation)
        #expect(try count("SELECT count(*) FROM complaint_events", on: db) == expected, sourceLocation: sourceLocation)
        #expect(try count("SELECT count(*) FROM routing_queue", on: db) == 0, sourceLocation: sourceLocation)
        let withEmail = try count("SELECT count(*) FROM complaints WHERE citizen_email IS NOT NULL", on: db)
        #expect(try count("SELECT count(*) FROM notifications", on: db) == withEmail, sourceLocation: sourceLocation)
        #expect(try count("""
            SELECT count(*) FROM notifications n JOIN complaints c ON c.id = n.complaint_id
            WHERE c.anonymous OR c.citizen_email IS NULL
            """, on: db) == 0, sourceLocation: sourceLocation)
    }
}

@Suite("Routing worker against the real PostgreSQL cluster", .enabled(if: TestDatabase.available))
struct WorkerIntegrationTests {
    @Test("four worker processes route 2,000 complaints exactly once")
    func concurrentWorkersRouteEachComplaintOnce() throws {
        let fixture = try RoutingFixture("fourworkers")
        defer { fixture.database.drop() }
        try fixture.submit(count: 2_000)
        let workers = try (0..<4).map { _ in
            try fixture.start(["worker", "--drain", "--concurrency", "1", "--batch", "50"])
        }
        let outcomes = workers.map { $0.wait(timeout: 240) }
        for outcome in outcomes {
            #expect(outcome.status == 0, "worker failed: \(outcome.stderr.suffix(2_000))")
        }
        let db = try fixture.database.connect()
        try fixture.expectAllRoutedOnce(2_000, on: db)
        #expect(try fixture.count("SELECT count(DISTINCT split_part(worker_id, ':', 2)) FROM routing_decisions", on: db) >= 2,
                "the work should be shared between processes")
    }

    @Test("a worker killed with SIGKILL mid-batch: its leases expire and everything is routed once")
    func killedWorkerLeavesNothingHalfDone() throws {
        // The lease only bounds how long the drain below waits for the dead worker's claims;
        // nothing here depends on how much of it is left when the kill lands.
        let fixture = try RoutingFixture("kill9", extraEnvironment: ["CHIKAYA_LEASE_SECONDS": "2"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 200)
        let db = try fixture.database.connect()
        // 50 ms a complaint: at least 10 s for the 200, so the kill lands mid-queue on any machine.
        let slow = try fixture.start(["worker", "--batch", "20", "--concurrency", "1"],
                                     environment: ["CHIKAYA_TEST_SLOW_CLASSIFY_MS": "50"])
        // Killed while it holds a claim it has not written: one batch written, the next claimed.
        #expect(try fixture.eventually(timeout: 120) {
            try fixture.count("SELECT count(*) FROM routing_decisions", on: db) >= 20
                && fixture.count("SELECT count(*) FROM routing_queue WHERE leased_by IS NOT NULL", on: db) > 0
        })
        slow.signal(SIGKILL)
        let killed = slow.wait(timeout: 30)
        #expect(killed.status == 128 + SIGKILL)
        let routedBefore = try fixture.count("SELECT count(*) FROM routing_decisions", on: db)
        #expect(routedBefore < 200, "the kill should land before the end")
        // Claimed and never written: still marked with the dead worker's lease, expired or not.
        let orphaned = try fixture.count("SELECT count(*) FROM routing_queue WHERE leased_by IS NOT NULL", on: db)
        #expect(orphaned > 0, "the killed worker held a lease")

        let drain = try fixture.expectSuccess(["worker", "--drain", "--batch", "50"])
        #expect(drain.status == 0)
        try fixture.expectAllRoutedOnce(200, on: db)
    }

    @Test("a complaint that makes routing fail goes to the dead letters and can be requeued")
    func poisonComplaintIsDeadLettered() throws {
        let fixture = try RoutingFixture("poison", extraEnvironment: ["CHIKAYA_MAX_ATTEMPTS": "3"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 20) { $0 == 7 ? "POISON-PILL" : nil }
        let db = try fixture.database.connect()
        let outcome = try fixture.expectSuccess(["worker", "--drain", "--batch", "5"],
                                                environment: ["CHIKAYA_TEST_POISON_MARKER": "POISON-PILL"])
        #expect(outcome.stderr.contains("complaint_dead"))
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions", on: db) == 19)
        #expect(try fixture.count("SELECT count(*) FROM routing_queue WHERE state = 'dead' AND attempts = 3", on: db) == 1)
        let reference: String = try db.query("""
            SELECT c.reference FROM routing_queue q JOIN complaints c ON c.id = q.complaint_id WHERE q.state = 'dead'
            """).single().decode(0)

        let dead = try fixture.expectSuccess(["queue", "dead"])
        #expect(dead.stdout.contains(reference))
        #expect(dead.stdout.contains("test poison marker"))
        let status = try fixture.expectSuccess(["queue", "status"])
        #expect(status.stdout.contains("dead               1"))

        let retry = try fixture.expectSuccess(["queue", "retry", reference])
        #expect(retry.stdout.contains("requeued 1 complaint"))
        try fixture.expectSuccess(["worker", "--drain"])
        try fixture.expectAllRoutedOnce(20, on: db)

        let again = try fixture.chikaya.run(["queue", "retry", reference], environment: fixture.environment)
        #expect(again.status == 65, "a complaint that is not dead cannot be retried")
    }

    @Test("a received complaint that already has a decision fails by the key and goes to the dead letters; its batch is routed")
    func decisionForAReceivedComplaintIsDeadLettered() throws {
        let fixture = try RoutingFixture("decidedtwice", extraEnvironment: ["CHIKAYA_MAX_ATTEMPTS": "1"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 10)
        let db = try fixture.database.connect()
        // What no statement of the product writes (an import gone wrong, a hand edit): a decision
        // beside a complaint still received and queued.
        try db.executeScript("""
            INSERT INTO routing_decisions (complaint_id, department, confidence, matches, rules_version, worker_id)
            SELECT min(id), 'voirie', 1, '[]', 'by hand', 'nobody' FROM complaints
            """)
        let outcome = try fixture.expectSuccess(["worker", "--drain", "--batch", "10"])
        #expect(outcome.stderr.contains("complaint_dead"))
        #expect(try fixture.count("SELECT count(*) FROM complaints WHERE status = 'assigned'", on: db) == 9)
        #expect(try fixture.count("""
            SELECT count(*) FROM routing_queue q JOIN complaints c ON c.id = q.complaint_id
            WHERE q.state = 'dead' AND c.status = 'received' AND q.last_error LIKE '%routing_decisions_pkey%'
            """, on: db) == 1, "kept in the queue, dead, with the reason; not finished without a decision")
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions WHERE worker_id = 'nobody'", on: db) == 1)
    }

    @Test("SIGTERM during a batch: exit 0 within the bound, every complaint routed whole or not at all")
    func sigtermFinishesTheBatch() throws {
        let fixture = try RoutingFixture("sigterm")
        defer { fixture.database.drop() }
        try fixture.submit(count: 60)
        let db = try fixture.database.connect()
        let worker = try fixture.start(["worker", "--batch", "10", "--concurrency", "1"],
                                       environment: ["CHIKAYA_TEST_SLOW_CLASSIFY_MS": "100"])
        #expect(try fixture.eventually(timeout: 60) {
            try fixture.count("SELECT count(*) FROM routing_decisions", on: db) >= 10
        })
        usleep(300_000)
        let signalled = Date()
        worker.signal(SIGTERM)
        let outcome = worker.wait(timeout: 20)
        #expect(outcome.status == 0, "stderr: \(outcome.stderr.suffix(1_000))")
        #expect(Date().timeIntervalSince(signalled) < 10.5)
        #expect(outcome.stderr.contains("stop_requested"))
        let decided = try fixture.count("SELECT count(*) FROM routing_decisions", on: db)
        #expect(decided < 60)
        #expect(decided % 10 == 0, "batches are written whole: \(decided)")
        #expect(try fixture.count("SELECT count(*) FROM complaints WHERE status = 'assigned'", on: db) == decided)
        #expect(try fixture.count("SELECT count(*) FROM complaint_events", on: db) == decided)
        #expect(try fixture.count("SELECT count(*) FROM routing_queue", on: db) == 60 - decided)
    }

    @Test("a complaint locked by another system does not hold the worker, nor its shutdown")
    func lockedComplaintDoesNotHoldTheWorker() throws {
        let fixture = try RoutingFixture("locked")
        defer { fixture.database.drop() }
        try fixture.submit(count: 5)
        let db = try fixture.database.connect()
        let other = try fixture.database.connect()
        // Another system holds a row lock on every complaint in a transaction it does not end.
        try other.executeScript("BEGIN")
        try other.query("SELECT id FROM complaints FOR UPDATE")
        let worker = try fixture.start(["worker", "--concurrency", "1"])
        // Stop it only once it has met the locks: every complaint given back as locked elsewhere
        // (a condition, not a guess at how long a loaded machine takes to get there).
        #expect(try fixture.eventually(timeout: 60) {
            try fixture.count("SELECT count(*) FROM routing_queue WHERE last_error LIKE 'locked by another session%'", on: db) == 5
        }, "the worker met the locks")
        #expect(try fixture.count("SELECT count(*) FROM routing_queue WHERE attempts > 0", on: db) == 0,
                "a lock held elsewhere costs no attempt")
        worker.signal(SIGTERM)
        let outcome = worker.wait(timeout: 60)
        // Not a stopwatch: exit status 0 means every loop ended within the shutdown grace, and no
        // lock timeout (SQLSTATE 55P03) in the log means no statement ever waited on the locks,
        // whatever the grace and lock_timeout are and however loaded the machine is.
        #expect(outcome.status == 0, "the stop is clean: \(outcome.stderr.suffix(800))")
        #expect(!outcome.stderr.contains("shutdown_grace_exceeded"))
        #expect(!outcome.stderr.contains("55P03"), "\(outcome.stderr.suffix(800))")
        try other.executeScript("ROLLBACK")
        // Nothing was lost: once the lock is gone, the complaints are routed.
        try fixture.expectSuccess(["worker", "--drain"])
        try fixture.expectAllRoutedOnce(5, on: db)
    }

    @Test("an anonymous complaint gets no notification, and logs carry no complaint text")
    func anonymousComplaintStaysAnonymous() throws {
        let fixture = try RoutingFixture("anonymous")
        defer { fixture.database.drop() }
        let secret = "Les poubelles débordent devant le numéro 17 de la rue Secrète"
        try fixture.expectSuccess(["submit", "--text", secret, "--anonymous"])
        try fixture.expectSuccess(["submit", "--file", "-"],
                                  stdin: "text\temail\tname\nLampadaire éteint rue Kamal\tsomeone@example.org\tSomeone Private\n")
        let db = try fixture.database.connect()
        let outcome = try fixture.expectSuccess(["worker", "--drain"])
        try fixture.expectAllRoutedOnce(2, on: db)
        #expect(try fixture.count("SELECT count(*) FROM notifications n JOIN complaints c ON c.id = n.complaint_id WHERE c.anonymous", on: db) == 0)
        #expect(try fixture.count("SELECT count(*) FROM complaints WHERE anonymous AND coalesce(citizen_name, citizen_email, citizen_phone) IS NOT NULL", on: db) == 0)
        #expect(!outcome.stderr.contains("Secrète"))
        #expect(!outcome.stderr.contains("someone@example.org"))
        #expect(!outcome.stderr.contains("Someone Private"))
        #expect(outcome.stderr.contains("batch_routed"))
    }

    @Test("with no rules published the worker says how to publish them")
    func workerWithoutRules() throws {
        let database = try TestDatabase("norules")
        defer { database.drop() }
        let chikaya = ChikayaBinary.locate()
        let environment = ["DATABASE_URL": database.url]
        #expect(try chikaya.run(["migrate"], environment: environment).status == 0)
        let outcome = try chikaya.run(["worker", "--drain"], environment: environment)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("chikaya rules publish"))
    }
}

@Suite("Routing worker and a PostgreSQL restart", .enabled(if: TestCluster.available))
struct WorkerRestartIntegrationTests {
    @Test("the server restarts while a worker runs: it reconnects and finishes the queue")
    func workerSurvivesServerRestart() throws {
        let cluster = try TestCluster()
        defer { cluster.destroy() }
        let fixture = try RoutingFixture("restart", url: cluster.url)
        try fixture.submit(count: 300)
        let db = try PostgresConnection.connect(url: cluster.url, applicationName: "tests")
        let worker = try fixture.start(["worker", "--drain", "--batch", "10", "--concurrency", "2"],
                                       environment: ["CHIKAYA_TEST_SLOW_CLASSIFY_MS": "10", "CHIKAYA_LEASE_SECONDS": "3"])
        #expect(try fixture.eventually(timeout: 60) {
            try fixture.count("SELECT count(*) FROM routing_decisions", on: db) >= 20
        })
        try cluster.restart()
        let outcome = worker.wait(timeout: 180)
        #expect(outcome.status == 0, "stderr: \(outcome.stderr.suffix(2_000))")
        #expect(outcome.stderr.contains("database_unavailable"))
        #expect(outcome.stderr.contains("database_reconnected"))
        let fresh = try PostgresConnection.connect(url: cluster.url, applicationName: "tests")
        try fixture.expectAllRoutedOnce(300, on: fresh)
    }
}
