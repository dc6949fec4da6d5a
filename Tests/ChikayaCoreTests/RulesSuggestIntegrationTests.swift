import Foundation
import Postgres
import Routing
import Testing
import TestSupport

/// `rules suggest` as an administrator uses it, against the real cluster: route a labelled set
/// with thin rules, correct the wrong ones by hand, take the suggestions, publish them, route
/// another labelled set.
@Suite("rules suggest against the real PostgreSQL cluster", .enabled(if: TestDatabase.available))
struct RulesSuggestIntegrationTests {
    static let root = ChikayaBinary.repositoryRoot()

    /// The dev corpus split in two disjoint halves (odd and even rows), never the check set.
    static func halves() throws -> (first: [LabelledCorpus.Row], second: [LabelledCorpus.Row]) {
        let path = root.appendingPathComponent("config/corpus/dev.tsv").path
        let rows = try LabelledCorpus.parse(try String(contentsOfFile: path, encoding: .utf8), fileName: path).rows
            .filter { $0.department != nil }
        return (rows.enumerated().filter { $0.offset % 2 == 0 }.map(\.element),
                rows.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))
    }

    static func tsv(_ rows: [LabelledCorpus.Row]) -> String {
        "id\tlang\tarrondissement\tdepartment\ttext\n" + rows.map {
            "\($0.id)\t\($0.lang)\t\($0.arrondissement ?? "")\t\($0.department ?? "")\t\($0.text)\n"
        }.joined()
    }

    /// The shipped rules with every other keyword line left out: a city whose rules are young,
    /// so that its staff have many complaints to correct.
    static func thinRules() throws -> String {
        let shipped = try String(contentsOfFile: root.appendingPathComponent("config/routing-rules.conf").path, encoding: .utf8)
        var keep = true
        return shipped.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> Substring? in
            guard let first = line.first, first.isNumber else { return line }
            keep.toggle()
            return keep ? line : nil
        }.joined(separator: "\n")
    }

    /// Submits the rows, routes them, and returns each row's reference and the department the
    /// router gave it.
    func route(_ rows: [LabelledCorpus.Row], fixture: RoutingFixture, on db: PostgresConnection) throws -> [(String, String)] {
        let file = NSTemporaryDirectory() + "suggest-\(UUID().uuidString).tsv"
        try Self.tsv(rows).write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let references = try fixture.expectSuccess(["submit", "--file", file]).stdout.split(separator: "\n").map(String.init)
        #expect(references.count == rows.count)
        try fixture.expectSuccess(["worker", "--drain", "--concurrency", "1"])
        return try references.map { reference in
            (reference, try db.query("SELECT department FROM complaints WHERE reference = $1", [reference]).single().decode(0))
        }
    }

    func accuracy(_ rows: [LabelledCorpus.Row], _ routed: [(String, String)]) -> Double {
        Double(zip(rows, routed).filter { $0.0.department == $0.1.1 }.count) / Double(rows.count)
    }

    @Test("route, correct by hand, suggest, publish, route a disjoint set: accuracy does not fall")
    func learnFromCorrections() throws {
        let fixture = try RoutingFixture("suggest")
        defer { fixture.database.drop() }
        let db = try fixture.database.connect()
        let (first, second) = try Self.halves()
        let thin = NSTemporaryDirectory() + "thin-\(UUID().uuidString).conf"
        try Self.thinRules().write(toFile: thin, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: thin) }
        try fixture.expectSuccess(["rules", "publish", thin, "--note", "young rules"])

        // Day one: the first half routed, the wrong ones corrected by the staff.
        let routedFirst = try route(first, fixture: fixture, on: db)
        let firstBefore = accuracy(first, routedFirst)
        var corrections = 0
        for (row, (reference, department)) in zip(first, routedFirst) where row.department != department {
            try fixture.expectSuccess(["complaints", "reassign", reference, row.department ?? "", "--note", "wrong office"])
            corrections += 1
        }
        #expect(corrections > 0)

        // The administrator's review: suggestions, a candidate file that checks, then publication.
        let candidate = NSTemporaryDirectory() + "candidate-\(UUID().uuidString).conf"
        defer { try? FileManager.default.removeItem(atPath: candidate) }
        let suggest = try fixture.expectSuccess(["rules", "suggest", "--since", "1d", "--output", candidate])
        print(suggest.stdout)
        #expect(suggest.stdout.contains("learnt from: \(corrections) corrections"))
        #expect(suggest.stdout.contains("# suggested") == false, "the table, not the file, goes to the terminal")
        let written = try String(contentsOfFile: candidate, encoding: .utf8)
        #expect(written.hasPrefix(try Self.thinRules()))
        let suggestedLines = written.split(separator: "\n").filter { $0.contains("# suggested: +") }
        #expect(!suggestedLines.isEmpty)
        try fixture.expectSuccess(["rules", "check", candidate])
        // It never publishes by itself.
        #expect(try fixture.count("SELECT count(*) FROM rules_publications", on: db) == 2)
        try fixture.expectSuccess(["rules", "publish", candidate, "--note", "suggested keywords"])

        // Day two: another half, never seen by the miner. Before: the young rules on it.
        let young = Classifier(rules: try RuleSet.parse(source: try Self.thinRules(), fileName: "thin"))
        let secondBefore = Double(second.filter { young.classify($0.text, arrondissement: $0.arrondissement).department == $0.department }
            .count) / Double(second.count)
        let secondAfter = accuracy(second, try route(second, fixture: fixture, on: db))
        print(String(format: "rules suggest end to end: first half %.3f with the young rules, %d corrected; "
                     + "second half %.3f before, %.3f after %d suggested lines", firstBefore, corrections, secondBefore,
                     secondAfter, suggestedLines.count))
        #expect(secondAfter >= secondBefore, "accuracy on unseen complaints must not fall")
    }

    @Test("a labelled file adds its rows; nothing published is an error; an unreadable file is 66")
    func labelledFileAndErrors() throws {
        let fixture = try RoutingFixture("suggestlabelled")
        defer { fixture.database.drop() }
        let (first, _) = try Self.halves()
        let file = NSTemporaryDirectory() + "labelled-\(UUID().uuidString).tsv"
        try Self.tsv(first).write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let out = try fixture.expectSuccess(["rules", "suggest", "--labelled", file, "--min-support", "1"])
        #expect(out.stdout.contains("and \(first.count) labelled rows of \(file)"))
        #expect(out.stdout.contains("routed right: "))
        let missing = try fixture.chikaya.run(["rules", "suggest", "--labelled", "/nonexistent.tsv"], environment: fixture.environment)
        #expect(missing.status == 66)
        let empty = try TestDatabase("suggestempty")
        defer { empty.drop() }
        var environment = fixture.environment
        environment["DATABASE_URL"] = empty.url
        _ = try fixture.chikaya.run(["migrate"], environment: environment)
        let none = try fixture.chikaya.run(["rules", "suggest"], environment: environment)
        #expect(none.status == 65)
        #expect(none.stderr.contains("no rules are published yet"))
    }
}
