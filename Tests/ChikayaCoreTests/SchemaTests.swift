import Foundation
import Postgres
import Routing
import Synchronization
import Testing
import TestSupport
@testable import ChikayaCore

/// Migrations and the intake contract against the real cluster; a database per test.
@Suite(.enabled(if: TestDatabase.available, "needs DATABASE_URL (run through scripts/test)"))
struct SchemaIntegrationTests {
    /// A migrated database of its own for one test.
    func migrated(_ label: String) throws -> (TestDatabase, PostgresConnection) {
        let database = try TestDatabase(label)
        let db = try database.connect()
        _ = try MigrationRunner(connection: db).run()
        return (database, db)
    }

    // MARK: migrations

    @Test func secondRunIsANoOp() throws {
        let database = try TestDatabase("migrate2")
        defer { database.drop() }
        let db = try database.connect()
        let first = try MigrationRunner(connection: db).run()
        #expect(first.applied.map(\.version) == Migrations.all.map(\.version))
        #expect(first.alreadyApplied == 0)
        let before = try db.query("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version")
            .rows.map { "\(try $0.decode(0, as: Int.self)) \(try $0.decode(1, as: String.self)) \(try $0.decode(2, as: Date.self).timeIntervalSince1970)" }

        let second = try MigrationRunner(connection: db).run()
        #expect(second.applied.isEmpty)
        #expect(second.alreadyApplied == Migrations.all.count)
        let after = try db.query("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version")
            .rows.map { "\(try $0.decode(0, as: Int.self)) \(try $0.decode(1, as: String.self)) \(try $0.decode(2, as: Date.self).timeIntervalSince1970)" }
        #expect(after == before)
        // The seed data was not inserted twice.
        #expect(try db.query("SELECT count(*) FROM arrondissements").single().decode(0, as: Int.self) == CityDirectory.arrondissements.count)
        #expect(try db.query("SELECT count(*) FROM departments").single().decode(0, as: Int.self) == CityDirectory.departments.count)
    }

    @Test(.timeLimit(.minutes(2)))
    func twoConcurrentRunsBothSucceed() throws {
        let database = try TestDatabase("migratepar")
        defer { database.drop() }
        let url = database.url
        let outcomes = Mutex<[String]>([])
        let done = DispatchGroup()
        // Two threads, two connections, started together: the advisory lock must serialise them,
        // so one applies everything and the other finds it done (no duplicate-table error).
        for index in 0..<2 {
            done.enter()
            Thread {
                defer { done.leave() }
                do {
                    let db = try PostgresConnection.connect(url: url, applicationName: "migrate-\(index)")
                    let report = try MigrationRunner(connection: db).run()
                    outcomes.withLock { $0.append("ok \(report.applied.count) \(report.alreadyApplied)") }
                } catch {
                    outcomes.withLock { $0.append("failed: \(error)") }
                }
            }.start()
        }
        done.wait()
        let results = outcomes.withLock { $0 }.sorted()
        let count = Migrations.all.count
        #expect(results == ["ok 0 \(count)", "ok \(count) 0"])
        let db = try database.connect()
        #expect(try db.query("SELECT count(*) FROM schema_migrations").single().decode(0, as: Int.self) == count)
    }

    @Test func changedChecksumIsRefused() throws {
        let (database, db) = try migrated("checksum")
        defer { database.drop() }
        // As if the text of migration 1 had been edited after it was applied.
        try db.execute("UPDATE schema_migrations SET checksum = $1 WHERE version = 1", ["0123456789abcdef"])
        let error = try #require(throws: MigrationError.self) { try MigrationRunner(connection: db).run() }
        #expect(error.description.contains("migration 1"))
        #expect(error.description.contains("0123456789abcdef"))
        // The refusal released the advisory lock: another session can take it at once.
        let other = try database.connect()
        #expect(try other.query("SELECT pg_try_advisory_lock($1)", [MigrationRunner.lockKey]).single().decode(0, as: Bool.self))
    }

    @Test func databaseNewerThanTheProgramIsRefused() throws {
        let (database, db) = try migrated("newer")
        defer { database.drop() }
        try db.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (999, 'future', 'x')")
        let error = try #require(throws: MigrationError.self) { try MigrationRunner(connection: db).run() }
        #expect(error.description.contains("999"))
    }

    // MARK: the intake contract

    @Test func anonymousComplaintWithANameIsRejectedByTheCheck() throws {
        let (database, db) = try migrated("anon")
        defer { database.drop() }
        for column in ["citizen_name", "citizen_email", "citizen_phone"] {
            let error = try #require(throws: PostgresError.self) {
                try db.execute("INSERT INTO complaints (body, anonymous, \(column)) VALUES ($1, true, $2)", ["Fuite", "Amina"])
            }
            #expect(error.sqlState == "23514")
            #expect(error.message.contains("complaints_anonymous_has_no_personal_data"))
        }
        // Anonymous without personal data, and named when not anonymous, are both accepted.
        try db.execute("INSERT INTO complaints (body, anonymous) VALUES ($1, true)", ["Fuite"])
        try db.execute("INSERT INTO complaints (body, citizen_name) VALUES ($1, $2)", ["Fuite", "Amina"])
        #expect(try db.query("SELECT count(*) FROM complaints").single().decode(0, as: Int.self) == 2)
    }

    @Test func referenceIsMadeByTheDatabase() throws {
        let (database, db) = try migrated("reference")
        defer { database.drop() }
        let references = try db.transaction { tx in
            try ComplaintStore.insert([NewComplaint(body: "Nid de poule"), NewComplaint(body: "حفرة في الطريق", language: "ar")], on: tx)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Africa/Casablanca"))
        let year = calendar.component(.year, from: Date())
        #expect(references == ["CC-\(year)-000001", "CC-\(year)-000002"])
        // A plain INSERT (the phone app's way) gets one too, and a reference cannot be chosen by the app.
        let plain = try db.query("INSERT INTO complaints (body, reference) VALUES ($1, $2) RETURNING reference, status, anonymous",
                                 ["Lampadaire", "CC-1999-999999"]).single()
        #expect(try plain.decode(0, as: String.self) == "CC-\(year)-000003")
        #expect(try plain.decode(1, as: String.self) == "received")
        #expect(try plain.decode(2, as: Bool.self) == false)
    }

    @Test func bodyMustHaveOneTo10000Characters() throws {
        let (database, db) = try migrated("body")
        defer { database.drop() }
        // char_length counts characters, not bytes: 10,000 Arabic letters are 20,000 bytes.
        try db.execute("INSERT INTO complaints (body) VALUES ($1)", [String(repeating: "ب", count: 10_000)])
        for body in ["", "   ", String(repeating: "a", count: 10_001)] {
            let error = try #require(throws: PostgresError.self) {
                try db.execute("INSERT INTO complaints (body) VALUES ($1)", [body])
            }
            #expect(error.sqlState == SQLState.checkViolation)
            #expect(error.message.contains("complaints_body_length"))
        }
        let missing = try #require(throws: PostgresError.self) {
            try db.execute("INSERT INTO complaints (language) VALUES ('fr')")
        }
        #expect(missing.sqlState == SQLState.notNullViolation)
    }

    @Test func unknownArrondissementAndBadEnumsAreRefused() throws {
        let (database, db) = try migrated("fk")
        defer { database.drop() }
        let fk = try #require(throws: PostgresError.self) {
            try db.execute("INSERT INTO complaints (body, arrondissement) VALUES ($1, $2)", ["x", "atlantis"])
        }
        #expect(fk.sqlState == SQLState.foreignKeyViolation)
        for (column, value) in [("language", "en"), ("notify_language", "es"), ("status", "lost")] {
            let error = try #require(throws: PostgresError.self) {
                try db.execute("INSERT INTO complaints (body, \(column)) VALUES ($1, $2)", ["x", value])
            }
            #expect(error.sqlState == SQLState.checkViolation, "\(column)")
        }
        try db.execute("INSERT INTO complaints (body, arrondissement, language) VALUES ($1, $2, $3)", ["x", "anfa", "ar"])
    }

    @Test(.timeLimit(.minutes(1)))
    func plainInsertQueuesTheComplaintAndWakesWorkers() throws {
        let (database, app) = try migrated("enqueue")
        defer { database.drop() }
        let worker = try database.connect()
        try worker.listen("chikaya_routing")
        let id = try app.query("INSERT INTO complaints (body) VALUES ($1) RETURNING id", ["Égout bouché"]).single().decode(0, as: Int64.self)
        #expect(try !worker.waitForNotifications(timeout: 10).isEmpty)
        #expect(try worker.query("SELECT state FROM routing_queue WHERE complaint_id = $1", [id]).single().decode(0, as: String.self) == "pending")
        // A rolled-back insert leaves no queue entry and wakes no one.
        struct Abort: Error {}
        _ = try? app.transaction { tx in
            try tx.execute("INSERT INTO complaints (body) VALUES ($1)", ["annulée"])
            throw Abort()
        }
        #expect(try worker.waitForNotifications(timeout: 0.3).isEmpty)
        #expect(try worker.query("SELECT count(*) FROM routing_queue").single().decode(0, as: Int.self) == 1)
    }
}

/// Checksums need no server: an edit of an applied migration's text must change it.
@Suite struct MigrationChecksumUnitTests {
    @Test func editedMigrationTextHasAnotherChecksum() {
        let original = Migrations.all[0]
        let edited = Migration(version: original.version, name: original.name, sql: original.sql + "\n-- edit")
        #expect(edited.checksum != original.checksum)
        #expect(original.checksum.count == 16)
        #expect(Set(Migrations.all.map(\.version)).count == Migrations.all.count)
    }
}
