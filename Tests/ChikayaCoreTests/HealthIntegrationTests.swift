import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// `chikaya health` run as a probe would run it, against databases in known states.
@Suite("chikaya health against the real PostgreSQL cluster", .enabled(if: TestDatabase.available))
struct HealthIntegrationTests {
    /// Status and check name of each line, e.g. ["ok database", ..., "status ok"].
    func summary(_ outcome: ChikayaBinary.Outcome) -> [String] {
        outcome.stdout.split(separator: "\n").map { line in
            line.split(separator: " ", omittingEmptySubsequences: true).prefix(2).joined(separator: " ")
        }
    }

    @Test("a migrated database with rules, offices and nothing waiting is healthy: exit 0")
    func healthy() throws {
        let fixture = try RoutingFixture("healthok")
        defer { fixture.database.drop() }
        try fixture.expectSuccess(["departments", "sync", "config/departments.conf"])
        let outcome = try fixture.chikaya.run(["health"], environment: fixture.environment)
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(summary(outcome) == ["ok database", "ok migrations", "ok rules", "ok queue", "ok outbox",
                                     "ok dead", "ok offices", "status ok"])
        #expect(outcome.stdout.contains("current (version \(Migrations.all.map(\.version).max() ?? 0))"))
    }

    @Test("a backlog, a dead letter and an office without an address: degraded, exit 1")
    func degraded() throws {
        let fixture = try RoutingFixture("healthdegraded")
        defer { fixture.database.drop() }
        try fixture.expectSuccess(["departments", "sync", "config/departments.conf"])
        try fixture.submit(count: 3)
        let db = try fixture.database.connect()
        try db.query("""
            UPDATE routing_queue SET state = 'dead', last_error = 'test'
            WHERE complaint_id = (SELECT min(complaint_id) FROM routing_queue)
            """)
        try db.query("UPDATE routing_queue SET enqueued_at = now() - interval '5 minutes' WHERE state = 'pending'")
        try db.query("DELETE FROM department_contacts WHERE department = 'voirie'")

        let outcome = try fixture.chikaya.run(["health", "--max-queue-age", "2m"], environment: fixture.environment)
        #expect(outcome.status == 1, "\(outcome.stdout)\(outcome.stderr)")
        #expect(summary(outcome) == ["ok database", "ok migrations", "ok rules", "degraded queue", "ok outbox",
                                     "degraded dead", "degraded offices", "status degraded"])
        #expect(outcome.stdout.contains("2 waiting"))
        #expect(outcome.stdout.contains("1 complaint could not be routed"))
        #expect(outcome.stdout.contains("no address for voirie"))

        // The same backlog within a longer limit is not a degradation.
        let relaxed = try fixture.chikaya.run(["health", "--max-queue-age", "10m"], environment: fixture.environment)
        #expect(summary(relaxed).contains("ok queue"), "\(relaxed.stdout)")
    }

    @Test("an old pending notification degrades the outbox")
    func outboxBacklog() throws {
        let fixture = try RoutingFixture("healthoutbox")
        defer { fixture.database.drop() }
        try fixture.expectSuccess(["departments", "sync", "config/departments.conf"])
        try fixture.submit(count: 3)
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        try db.query("UPDATE notifications SET created_at = now() - interval '20 minutes'")
        let outcome = try fixture.chikaya.run(["health", "--max-outbox-age", "10m"], environment: fixture.environment)
        #expect(outcome.status == 1, "\(outcome.stdout)\(outcome.stderr)")
        #expect(summary(outcome).contains("degraded outbox"))
        #expect(summary(outcome).contains("ok queue"))
    }

    @Test("no schema, or no database at all: down, exit 2")
    func down() throws {
        let database = try TestDatabase("healthdown")
        defer { database.drop() }
        let empty = try CLI.run(["health"], databaseURL: database.url)
        #expect(empty.status == 2, "\(empty.stdout)\(empty.stderr)")
        #expect(empty.stdout.contains("never migrated"))
        #expect(empty.stdout.hasSuffix("status down\n"))

        let unreachable = try CLI.run(["health"], databaseURL: "postgresql://postgres@127.0.0.1:1/postgres")
        #expect(unreachable.status == 2)
        #expect(unreachable.stdout.hasPrefix("down"))
        #expect(unreachable.stdout.split(separator: "\n").count == 8)
    }

    @Test("bad limits are usage errors")
    func usage() throws {
        let outcome = try CLI.run(["health", "--max-queue-age", "soon"], databaseURL: nil)
        #expect(outcome.status == 64)
    }
}

@Suite("chikaya health --allow-degraded", .enabled(if: TestDatabase.available))
struct HealthAllowDegradedIntegrationTests {
    @Test("degraded exits 0 with --allow-degraded; down still exits 2")
    func allowDegraded() throws {
        let fixture = try RoutingFixture("healthallow")
        defer { fixture.database.drop() }
        // No office has an address: degraded.
        let plain = try fixture.chikaya.run(["health"], environment: fixture.environment)
        #expect(plain.status == 1, "\(plain.stdout)")
        let allowed = try fixture.chikaya.run(["health", "--allow-degraded"], environment: fixture.environment)
        #expect(allowed.status == 0, "\(allowed.stdout)")
        #expect(allowed.stdout.hasSuffix("status degraded\n"))
        let down = try CLI.run(["health", "--allow-degraded"], databaseURL: "postgresql://postgres@127.0.0.1:1/postgres")
        #expect(down.status == 2)
    }
}
