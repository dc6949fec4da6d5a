import Foundation
import Testing
@testable import Routing

/// The per-token cache of the matcher (`TokenPatternCache`) changes how fast a batch goes, never
/// what it decides: same hits, same decisions, with the cache on, off, or so small that it starts
/// again every few tokens; and it stays within its bounds.
struct TokenPatternCacheTests {
    struct Outcome: Equatable {
        var hits: [[Int32]]
        var department: Int
        var confidence: Double
        var reason: Classifier.Reason
    }

    static func outcome(_ classifier: Classifier, _ text: String, _ area: String?,
                        _ workspace: inout Classifier.Workspace) -> Outcome {
        var copy = text
        let d = copy.withUTF8 { classifier.decide(utf8: $0, arrondissement: area, workspace: &workspace) }
        return Outcome(hits: workspace.scratch.hits.map { [$0.rule, $0.first, $0.end] }, department: d.departmentIndex,
                       confidence: d.confidence, reason: d.reason)
    }

    /// The dev corpus, the cross-script fixture, the DODa spellings and texts that go through
    /// the rare paths (runs, Arabizi digits, split negation, clitics, elisions, plurals).
    static func texts() throws -> [(String, String?)] {
        let repo = ShippedRulesTests.repo
        let dev = repo.appendingPathComponent("config/corpus/dev.tsv").path
        var texts = try LabelledCorpus.parse(try String(contentsOfFile: dev, encoding: .utf8), fileName: dev).rows
            .map { ($0.text, $0.arrondissement) }
        for file in ["Tests/Fixtures/routing/cross-script.tsv", "Tests/Fixtures/doda/nouns.csv",
                     "Tests/Fixtures/doda/places.csv"] {
            let source = try String(contentsOfFile: repo.appendingPathComponent(file).path, encoding: .utf8)
            texts += source.split(separator: "\n").map { (String($0), nil) }
        }
        texts += ["zbeeeel f zzzenqa", "ma jach l camion", "ما جاش الطوبيس", "ماجاش الماء", "mabqach ma bqach",
                  "l'éclairage d'la rue", "poubelles chevaux feux", "s7i7 l8soun 3omoumi kh5 7m9 999",
                  "kaytfi katsed kitfa kntsna lpoubella fzen9a ttobis", "كيطفي كاتقطع تايسيل والزبل بالزنقة"]
            .map { ($0, nil) }
        return texts
    }

    @Test func theCacheChangesNoHitAndNoDecision() throws {
        let set = try RuleSet.load(path: ShippedRulesTests.repo.appendingPathComponent("config/routing-rules.conf").path)
        let classifier = Classifier(rules: set)
        let texts = try Self.texts()
        var off = Classifier.Workspace(tokenCache: 0)
        var on = Classifier.Workspace()
        var tiny = Classifier.Workspace(tokenCache: 3)
        var compared = 0
        // Twice: the second pass finds every token in the full cache.
        for _ in 0..<2 {
            for (text, area) in texts {
                let expected = Self.outcome(classifier, text, area, &off)
                #expect(Self.outcome(classifier, text, area, &on) == expected, "\(text)")
                #expect(Self.outcome(classifier, text, area, &tiny) == expected, "\(text)")
                compared += 1
            }
        }
        #expect(compared > 1_000)
        #expect(on.scratch.cache.count > 0)
        #expect(tiny.scratch.cache.count <= 3)
        #expect(off.scratch.cache.count == 0)
    }

    @Test func theCacheStaysWithinItsBound() throws {
        let classifier = Classifier(rules: try rules("[voirie]\n1: trou | ~7fra\n"))
        var workspace = Classifier.Workspace(tokenCache: 100)
        var most = 0
        for n in 0..<1_000 {
            let text = "trou w\(n)x 7fra zq\(n * 7)u hfra"
            let d = Self.outcome(classifier, text, nil, &workspace)
            #expect(classifier.rules.rules[Int(d.hits.first?[0] ?? 0)].term == "trou")
            #expect(d.hits.count == 3, "\(text)")
            most = max(most, workspace.scratch.cache.count)
        }
        #expect(most <= 100 && most >= 90, "\(most)")
    }

    /// A workspace kept across a rules publication (the worker's) must not answer with what
    /// the old rules' matcher cached.
    @Test func aWorkspaceMovedToOtherRulesForgetsTheOldMatches() throws {
        let first = Classifier(rules: try rules("[voirie]\n1: trou\n"))
        let second = Classifier(rules: try rules("[proprete]\n1: zbel\n[eclairage]\n1: trou\n"))
        var workspace = Classifier.Workspace()
        for _ in 0..<3 {
            #expect(Self.outcome(first, "trou zbel", nil, &workspace).department
                    == CityDirectory.departments.firstIndex { $0.code == "voirie" })
            #expect(Self.outcome(second, "trou zbel", nil, &workspace).hits.count == 2)
        }
    }
}
