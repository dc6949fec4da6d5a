import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Rules published or rolled back while a worker runs", .enabled(if: TestDatabase.available))
struct RulesSwitchIntegrationTests {
    /// The shipped rules plus one made-up word for circulation, so that its effect is certain.
    func draftRules() throws -> String {
        let shipped = try String(contentsOf: ChikayaBinary.repositoryRoot().appendingPathComponent("config/routing-rules.conf"),
                                 encoding: .utf8)
        let draft = shipped.replacingOccurrences(of: "[circulation]\n", with: "[circulation]\n9: zorglubisme\n")
        #expect(draft != shipped)
        let path = NSTemporaryDirectory() + "draft-rules-\(UUID().uuidString).conf"
        try draft.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func decision(for text: String, fixture: RoutingFixture, on db: PostgresConnection) throws -> (department: String, version: String) {
        let reference = try fixture.expectSuccess(["submit", "--text", text]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var found: (String, String)?
        _ = try fixture.eventually(timeout: 30) {
            let result = try db.query("""
                SELECT d.department, d.rules_version FROM routing_decisions d JOIN complaints c ON c.id = d.complaint_id
                WHERE c.reference = $1
                """, [reference])
            if result.count == 1 { found = (try result[0].decode(0), try result[0].decode(1)) }
            return found != nil
        }
        let decided = try #require(found, "\(reference) was not routed")
        return (decided.0, decided.1)
    }

    @Test("later decisions carry the newly published version, and a rollback switches back")
    func workersSwitchRules() throws {
        let fixture = try RoutingFixture("switch")
        defer { fixture.database.drop() }
        let draft = try draftRules()
        defer { try? FileManager.default.removeItem(atPath: draft) }
        let db = try fixture.database.connect()
        let original: String = try db.query("SELECT version FROM rules_publications ORDER BY id DESC LIMIT 1").single().decode(0)

        let worker = try fixture.start(["worker", "--concurrency", "2"])
        let before = try decision(for: "zorglubisme devant chez moi", fixture: fixture, on: db)
        #expect(before.department == "triage")
        #expect(before.version == original)

        let published = try fixture.expectSuccess(["rules", "publish", draft, "--note", "new word"])
        #expect(published.stdout.contains("published rules"))
        let draftVersion: String = try db.query("SELECT version FROM rules_publications ORDER BY id DESC LIMIT 1").single().decode(0)
        #expect(draftVersion != original)
        let after = try decision(for: "zorglubisme encore une fois", fixture: fixture, on: db)
        #expect(after.department == "circulation")
        #expect(after.version == draftVersion)

        let rollback = try fixture.expectSuccess(["rules", "rollback", String(original.prefix(8))])
        #expect(rollback.stdout.contains("in force again"))
        let rolledBack = try decision(for: "zorglubisme une troisième fois", fixture: fixture, on: db)
        #expect(rolledBack.department == "triage")
        #expect(rolledBack.version == original)

        let history = try fixture.expectSuccess(["rules", "history"])
        #expect(history.stdout.components(separatedBy: "\n").filter { !$0.isEmpty }.count == 3)

        worker.signal(SIGTERM)
        let outcome = worker.wait(timeout: 20)
        #expect(outcome.status == 0)
        #expect(outcome.stderr.contains("rules_switched"))
    }

    @Test("publishing an invalid file names the line and publishes nothing")
    func invalidRulesAreNotPublished() throws {
        let fixture = try RoutingFixture("badrules")
        defer { fixture.database.drop() }
        let path = NSTemporaryDirectory() + "bad-rules-\(UUID().uuidString).conf"
        try "threshold = 2\nmargin = 1\n\n[nowhere]\n3: trottoir\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let outcome = try fixture.chikaya.run(["rules", "publish", path], environment: fixture.environment)
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("\(path):4:"))
        #expect(outcome.stderr.contains("nothing was published"))
        let db = try fixture.database.connect()
        #expect(try fixture.count("SELECT count(*) FROM rules_publications", on: db) == 1)
    }
}
