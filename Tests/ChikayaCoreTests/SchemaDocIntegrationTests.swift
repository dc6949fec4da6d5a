import Foundation
import Testing
import TestSupport
@testable import ChikayaCore

/// docs/schema.md is generated from the live schema (`scripts/schema-doc`); this fails when a
/// migration lands without the document being generated again, or a new table has no owner.
@Suite(.enabled(if: TestDatabase.available, "needs DATABASE_URL (run through scripts/test)"))
struct SchemaDocIntegrationTests {
    @Test func schemaDocumentMatchesTheMigratedDatabase() throws {
        let database = try TestDatabase("schemadoc")
        defer { database.drop() }
        _ = try MigrationRunner(connection: try database.connect()).run()

        let root = ChikayaBinary.repositoryRoot()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", root.appendingPathComponent("scripts/schema-doc").path, "--check", "--database", database.url]
        process.currentDirectoryURL = root
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "scripts/schema-doc --check: \(printed)")
        #expect(printed.contains("docs/schema.md is current"))
    }
}
