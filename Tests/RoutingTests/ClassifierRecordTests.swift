import Testing
@testable import Routing

/// `Classifier.record`, the routing worker's path, writes exactly what the explainable path
/// would: the same decision as `classify`, the same bytes as `Classification.matchesJSON`, the
/// same keys as `TextSimilarity.keys(of:)`, with its workspace's token cache cold or warm.
struct ClassifierRecordTests {
    @Test func recordIsClassifyWithoutTheExplanation() throws {
        let set = try RuleSet.load(path: ShippedRulesTests.repo.appendingPathComponent("config/routing-rules.conf").path)
        let classifier = Classifier(rules: set)
        // Texts whose matched words need escaping in JSON (quotes, a backslash, a tab, a control
        // character) and an arrondissement rule's both sides.
        let odd: [(String, String?)] = [("les \"poubelles\" débordent\\ \u{1}zbel\tزبل", nil),
                                        ("poubelle\npoubelle \"trou\" dans la chaussée", "anfa"),
                                        ("", nil), ("   ", "maarif")]
        let texts = try TokenPatternCacheTests.texts() + odd
        var workspace = Classifier.Workspace()
        var withMatches = 0
        for _ in 0..<2 {
            for (text, area) in texts {
                let expected = classifier.classify(text, arrondissement: area)
                let record = classifier.record(text, arrondissement: area, workspace: &workspace)
                #expect(record.decision.department == expected.department, "\(text)")
                #expect(record.decision.confidence == expected.confidence, "\(text)")
                #expect(record.decision.runnerUpIndex.map { CityDirectory.departments[$0].code } == expected.runnerUp, "\(text)")
                #expect(record.matchesJSON == expected.matchesJSON, "\(text)")
                #expect(record.textKeys == TextSimilarity.keys(of: text), "\(text)")
                if !expected.matches.isEmpty { withMatches += 1 }
            }
        }
        #expect(withMatches > 400)
        // The odd texts' matches read back as classify found them.
        let quoted = classifier.record(odd[0].0, arrondissement: nil, workspace: &workspace)
        let read = DecisionMatch.decode(quoted.matchesJSON, text: odd[0].0)
        #expect(read.map(\.text).contains("zbel"))
        #expect(read == classifier.classify(odd[0].0, arrondissement: nil).matches.map(DecisionMatch.init))
    }
}
