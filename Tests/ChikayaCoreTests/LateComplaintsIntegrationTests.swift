import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Late complaints in the list and the figures", .enabled(if: TestDatabase.available))
struct LateComplaintsIntegrationTests {
    @Test("complaints list --late and stats count only what is past the department's deadline")
    func lateListAndStats() throws {
        let fixture = try RoutingFixture("latelist")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        try DepartmentStore.applySettings(department: "voirie", language: "fr", replyTo: nil, firstActionDays: 2,
                                          resolutionDays: 10, on: db)
        let late = try fixture.expectSuccess(["submit", "--text", "Nid de poule rue 7", "--arrondissement", "anfa"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let fresh = try fixture.expectSuccess(["submit", "--text", "Nid de poule rue 8", "--arrondissement", "anfa"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try db.query("UPDATE complaints SET status = 'assigned', department = 'voirie'")
        try db.query("""
            UPDATE complaint_events SET at = now() - interval '3 days'
            WHERE complaint_id = (SELECT id FROM complaints WHERE reference = $1)
            """, [late])

        let listed = try fixture.expectSuccess(["complaints", "list", "--late", "--format", "tsv"])
        #expect(listed.stdout.contains(late))
        #expect(!listed.stdout.contains(fresh))
        let all = try fixture.expectSuccess(["complaints", "list", "--format", "tsv"])
        #expect(all.stdout.contains(fresh))

        let stats = try fixture.expectSuccess(["stats"])
        #expect(stats.stdout.contains("late now              1 open complaints past a deadline"))
        #expect(stats.stdout.contains("missing for voirie"), "no contact was set for voirie")
        let json = try fixture.expectSuccess(["stats", "--format", "json"])
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let decoded = try decoder.decode(Stats.self, from: Data(json.stdout.utf8))
        #expect(decoded.late == 1)
        #expect(decoded.departments.first { $0.department == "voirie" }?.late == 1)
        #expect(decoded.arrondissements.first { $0.arrondissement == "anfa" }?.late == 1)
    }
}
