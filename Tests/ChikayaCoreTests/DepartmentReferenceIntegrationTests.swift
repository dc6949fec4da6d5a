import Foundation
import Postgres
import Testing
import TestSupport
@testable import ChikayaCore

/// Migration 22 checks a complaint's department per statement instead of by a foreign key; these
/// tests hold what the key refused, and its lock, against the real cluster.
@Suite("A complaint's department, checked per statement (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct DepartmentReferenceIntegrationTests {
    func migrated(_ label: String) throws -> (TestDatabase, PostgresConnection) {
        let database = try TestDatabase(label)
        let db = try database.connect()
        _ = try MigrationRunner(connection: db).run()
        try db.executeScript("""
            INSERT INTO complaints (body, arrondissement) SELECT 'Nid de poule rue ' || n, 'anfa' FROM generate_series(1, 3) n;
            UPDATE complaints SET status = 'assigned', department = 'voirie';
            """)
        return (database, db)
    }

    func expectForeignKeyViolation(_ sql: String, naming word: String, on db: PostgresConnection,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try db.executeScript(sql)
            Issue.record("accepted: \(sql)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.sqlState == SQLState.foreignKeyViolation, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(word), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("an update or insert naming no department, and a delete or recode of a department still named, are refused (23503)")
    func refusesWhatTheKeyRefused() throws {
        let (database, db) = try migrated("deptref")
        defer { database.drop() }
        expectForeignKeyViolation("UPDATE complaints SET department = 'nowhere' WHERE id = 1", naming: "nowhere", on: db)
        // One missing among several named by one statement: named, and nothing of the statement kept.
        expectForeignKeyViolation("UPDATE complaints SET department = CASE id WHEN 2 THEN 'nowhere' ELSE 'proprete' END",
                                  naming: "nowhere", on: db)
        #expect(try db.query("SELECT count(*) FROM complaints WHERE department = 'voirie'").single().decode(0, as: Int.self) == 3)
        expectForeignKeyViolation("INSERT INTO complaints (body, status, department) VALUES ('x', 'assigned', 'nowhere')",
                                  naming: "nowhere", on: db)
        try db.executeScript("INSERT INTO complaints (body, status, department) VALUES ('x', 'assigned', 'proprete')")
        try db.executeScript("UPDATE complaints SET department = 'eclairage' WHERE id = 1")

        expectForeignKeyViolation("DELETE FROM departments WHERE code = 'voirie'", naming: "voirie", on: db)
        expectForeignKeyViolation("UPDATE departments SET code = 'roads' WHERE code = 'voirie'", naming: "voirie", on: db)
        // A department no complaint names may go (its contacts and other keys permitting).
        try db.executeScript("DELETE FROM department_contacts WHERE department = 'urbanisme'; DELETE FROM departments WHERE code = 'urbanisme'")
        #expect(try db.query("SELECT count(*) FROM departments WHERE code = 'urbanisme'").single().decode(0, as: Int.self) == 0)
    }

    @Test("a routing statement holds its departments FOR KEY SHARE until it ends, as the key's check did")
    func locksTheNamedDepartments() throws {
        let (database, db) = try migrated("deptreflock")
        defer { database.drop() }
        let other = try database.connect()
        try db.executeScript("BEGIN")
        try db.executeScript("UPDATE complaints SET department = 'proprete' WHERE id = 1")
        do {
            try other.executeScript("SELECT 1 FROM departments WHERE code = 'proprete' FOR UPDATE NOWAIT")
            Issue.record("the department named by an open transaction could be locked for a delete")
        } catch {
            #expect(error.sqlState == "55P03", "\(error)")
        }
        // Departments the statement does not name are free.
        try other.executeScript("BEGIN; SELECT 1 FROM departments WHERE code = 'eclairage' FOR UPDATE NOWAIT; ROLLBACK")
        try db.executeScript("COMMIT")
        try other.executeScript("BEGIN; SELECT 1 FROM departments WHERE code = 'proprete' FOR UPDATE NOWAIT; ROLLBACK")
    }
}
