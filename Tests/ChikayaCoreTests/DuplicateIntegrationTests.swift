import Foundation
import Mail
import Postgres
import Testing
import TestSupport
@testable import ChikayaCore

/// Possible duplicates found at routing time, recorded with the decision and shown everywhere
/// staff look, against the real cluster.
@Suite("Duplicates against the real PostgreSQL cluster", .enabled(if: TestDatabase.available))
struct DuplicateIntegrationTests {
    func decision(_ reference: String, on db: PostgresConnection) throws -> (department: String, duplicateOf: String?, similarity: Double?) {
        let row = try db.query("""
            SELECT rd.department, dup.reference, rd.duplicate_similarity
            FROM complaints c JOIN routing_decisions rd ON rd.complaint_id = c.id
            LEFT JOIN complaints dup ON dup.id = rd.duplicate_of
            WHERE c.reference = $1
            """, [reference]).single()
        return (try row.decode(0), try row.decode(1), try row.decode(2))
    }

    @Test("paraphrase linked; same text elsewhere, another problem of the street, a resolved complaint not")
    func duplicatesAtRoutingTime() throws {
        let fixture = try RoutingFixture("duplicates")
        defer { fixture.database.drop() }
        try fixture.expectSuccess(["departments", "set-contact", "proprete", "proprete@example.org"])
        let original = try fixture.submit("Les poubelles débordent devant l'école Al Amal, rue 12, ça sent très mauvais", arrondissement: "anfa")
        let leak = try fixture.submit("Fuite d'eau importante sur le trottoir boulevard Zerktouni devant la pharmacie", arrondissement: "maarif")
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"])
        try fixture.expectSuccess(["complaints", "set-status", leak, "resolved", "--note", "réparé"])

        let paraphrase = try fixture.submit("Poubelle débordante devant école Al Amal rue 12, odeur horrible", arrondissement: "anfa")
        let elsewhere = try fixture.submit("Les poubelles débordent devant l'école Al Amal, rue 12, ça sent très mauvais", arrondissement: "maarif")
        let otherProblem = try fixture.submit("Dépôt sauvage de gravats et d'ordures sur le trottoir rue 12 près du marché", arrondissement: "anfa")
        let leakAgain = try fixture.submit("Fuite d eau importante sur trottoir bd Zerktouni devant pharmacie", arrondissement: "maarif")
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"])

        let db = try fixture.database.connect()
        let linked = try decision(paraphrase, on: db)
        #expect(linked.duplicateOf == original)
        #expect((linked.similarity ?? 0) >= 0.5 && (linked.similarity ?? 0) <= 1)
        #expect(try decision(elsewhere, on: db).duplicateOf == nil, "another arrondissement is another place")
        let other = try decision(otherProblem, on: db)
        #expect(other.department == linked.department, "the case needs the same department to mean anything")
        #expect(other.duplicateOf == nil, "another problem of the same street is not a duplicate")
        #expect(try decision(leak, on: db).department == decision(leakAgain, on: db).department)
        #expect(try decision(leakAgain, on: db).duplicateOf == nil, "a resolved complaint is not open work")
        #expect(try decision(original, on: db).duplicateOf == nil)

        // Shown where staff look.
        let show = try fixture.expectSuccess(["complaints", "show", paraphrase])
        #expect(show.stdout.contains("possible duplicate of \(original), similarity 0."))
        let list = try fixture.expectSuccess(["complaints", "list", "--format", "tsv"])
        let row = list.stdout.split(separator: "\n").first { $0.hasPrefix(paraphrase) }
        #expect(row?.split(separator: "\t", omittingEmptySubsequences: false)[6] == Substring(original))
        #expect(list.stdout.hasPrefix("reference\tsubmitted_at\tage_seconds\tstatus\tdepartment\tarrondissement\tduplicate_of\t"))
        let stats = try fixture.expectSuccess(["stats", "--format", "json"])
        struct Figures: Decodable {
            struct Department: Decodable { let department: String; let duplicates: Int }
            let duplicates: Int
            let departments: [Department]
        }
        let figures = try JSONDecoder().decode(Figures.self, from: Data(stats.stdout.utf8))
        #expect(figures.duplicates == 1)
        #expect(figures.departments.first { $0.department == linked.department }?.duplicates == 1)
        let table = try fixture.expectSuccess(["stats"])
        #expect(table.stdout.contains("possible duplicates   1"))

        // The office's assignment email says it.
        let notification: Int64 = try db.query("""
            SELECT n.id FROM notifications n JOIN complaints c ON c.id = n.complaint_id
            WHERE c.reference = $1 AND n.recipient_kind = 'department'
            """, [paraphrase]).single().decode(0)
        let delivery = try #require(try DepartmentDeliveryStore.delivery(notificationID: notification, on: db))
        #expect(delivery.duplicateOf == original)
        let templates = try MailTemplates.load(directory: ChikayaBinary.repositoryRoot().appendingPathComponent("config/templates").path,
                                               templates: DepartmentMailRenderer.templates)
        let renderer = DepartmentMailRenderer(templates: templates, from: MailboxAddress("city@example.org"), attachmentsURL: "https://x/")
        #expect(renderer.explanation(delivery, arabic: false).contains("doublon possible de \(original), similarité 0."))
        #expect(renderer.explanation(delivery, arabic: true).contains("تكرار محتمل للشكاية \(original)"))
    }

    @Test("within one batch, a later complaint is linked to an earlier one of the batch; the window turns it off")
    func duplicatesInsideOneBatchAndWindowOff() throws {
        let fixture = try RoutingFixture("duplicatesbatch")
        defer { fixture.database.drop() }
        let first = try fixture.submit("الضو ديال الزنقة 8 طافي هادي سيمانة", arrondissement: "sidi-moumen")
        let second = try fixture.submit("الضو فالزنقة 8 طافي هادي سيمانة كاملة", arrondissement: "sidi-moumen")
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1", "--batch", "10"])
        let db = try fixture.database.connect()
        #expect(try decision(second, on: db).duplicateOf == first)

        let third = try fixture.submit("الضو ديال الزنقة 8 طافي هادي سيمانة", arrondissement: "sidi-moumen")
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"], environment: ["CHIKAYA_DUPLICATES_WINDOW_DAYS": "0"])
        #expect(try decision(third, on: db).duplicateOf == nil)
    }

    @Test("one loop, one complaint a batch: a later batch links to a complaint the loop routed earlier, with its keys held")
    func duplicatesAcrossBatchesOfOneLoop() throws {
        let fixture = try RoutingFixture("duplicatescache")
        defer { fixture.database.drop() }
        let originalText = "Les poubelles débordent devant l'école Al Amal, rue 12, ça sent très mauvais"
        let paraphraseText = "Poubelle débordante devant école Al Amal rue 12, odeur horrible"
        let original = try fixture.submit(originalText, arrondissement: "anfa")
        let other = try fixture.submit("Dépôt sauvage de gravats et d'ordures sur le trottoir rue 12 près du marché", arrondissement: "anfa")
        let paraphrase = try fixture.submit(paraphraseText, arrondissement: "anfa")
        // Three batches of one process: the original's keys come from the loop's own memory when
        // the paraphrase's batch reads its candidates, not from the database.
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1", "--batch", "1"])
        let db = try fixture.database.connect()
        let linked = try decision(paraphrase, on: db)
        #expect(linked.duplicateOf == original)
        #expect(linked.similarity == TextSimilarity.similarity(paraphraseText, originalText))
        #expect(try decision(other, on: db).duplicateOf == nil)
    }
}

/// The duplicate candidates' plan when the statistics of `complaints` were taken before any was
/// routed (a bulk load, a restore, a fresh install), against the real cluster.
@Suite("Duplicate candidates with stale statistics (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct DuplicateCandidatesPlanIntegrationTests {
    @Test("a batch's transaction reads each group through open_complaints_by_area, and sorts again for the finish")
    func candidatesReadTheOpenComplaintsIndex() throws {
        let database = try TestDatabase("candidatesplan")
        defer { database.drop() }
        let db = try database.connect()
        _ = try MigrationRunner(connection: db).run()
        // 20,000 complaints of the city's arrondissements, vacuumed and analyzed while all are
        // received and none is open, then decided and assigned to its departments: the
        // statistics still say no complaint is open. (With fewer, the open complaints' index
        // stays as small as the statistics believe it, and the planner reads it even without the
        // setting.)
        try db.executeScript("""
            INSERT INTO complaints (body, arrondissement)
                SELECT 'Nid de poule rue ' || n, (SELECT code FROM arrondissements ORDER BY code OFFSET n % 16 LIMIT 1)
                FROM generate_series(1, 20000) n
            """)
        try db.executeScript("VACUUM ANALYZE complaints, open_complaints")
        try db.executeScript("""
            INSERT INTO routing_decisions (complaint_id, department, confidence, matches, rules_version, worker_id, text_keys)
                SELECT id, (SELECT code FROM departments ORDER BY code OFFSET id % 12 LIMIT 1), 1, '[]', 'v', 'w', '{1,2,3}'
                FROM complaints;
            UPDATE complaints c SET status = 'assigned', department = rd.department
                FROM routing_decisions rd WHERE rd.complaint_id = c.id;
            """)
        try QueueStore.prepareSession(on: db)
        let query = DuplicateQuery(groups: [DuplicateGroup(arrondissement: "anfa", department: "voirie"),
                                            DuplicateGroup(arrondissement: "maarif", department: "proprete")],
                                   windowDays: 7, perGroup: 10)
        let lookup = QueueStore.duplicateCandidatesStatements(query)
        let candidates = lookup.statements[lookup.candidates]
        try db.executeScript("BEGIN")
        for statement in lookup.statements[..<lookup.candidates] { try db.query(statement.sql, statement.parameters) }
        let plan = try db.query("EXPLAIN " + candidates.sql, candidates.parameters).rows
            .map { try $0.decode(0, as: String.self) }.joined(separator: "\n")
        #expect(plan.contains("open_complaints_by_area"), "\(plan)")
        #expect(!plan.contains("open_complaints_pkey") && !plan.contains("Sort"), "\(plan)")
        #expect(try db.query(candidates.sql, candidates.parameters).count == 20)
        // Ids the loop holds come back without keys, and take the loop's; the others keep theirs.
        let ids = try db.query(candidates.sql, candidates.parameters).rows.map { try $0.decode(2, as: Int64.self) }
        let known = Array(ids.prefix(5))
        var withKnown = query
        withKnown.known = known
        let statement = QueueStore.duplicateCandidatesStatement(withKnown)
        let result = try db.query(statement.sql, statement.parameters)
        #expect(try result.rows.filter { try $0.decode(3, as: String?.self) == nil }.map { try $0.decode(2, as: Int64.self) }.sorted()
                == known.sorted())
        let resolved = try QueueStore.duplicateCandidates(from: result) { known.contains($0) ? [9] : nil }
        #expect(resolved.count == 20)
        #expect(resolved.filter { $0.textKeys == [9] }.map(\.complaintID).sorted() == known.sorted())
        #expect(resolved.filter { $0.textKeys == [1, 2, 3] }.count == 15)
        // A candidate whose decision kept no keys, and that the loop does not hold, is left out.
        try db.query("UPDATE open_complaints SET text_keys = NULL WHERE complaint_id = $1", [ids[6]])
        #expect(try QueueStore.duplicateCandidates(from: db.query(statement.sql, statement.parameters)) { known.contains($0) ? [9] : nil }
            .count == 19)
        // The finish's pipeline turns sorts back on first.
        try db.query(QueueStore.sortsAsConfigured.sql)
        #expect(try db.query("SHOW enable_sort").single().decode(0, as: String.self) == "on")
        try db.executeScript("ROLLBACK")
    }
}
