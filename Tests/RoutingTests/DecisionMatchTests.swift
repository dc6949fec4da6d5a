import Foundation
import Testing
@testable import Routing

/// The `routing_decisions.matches` contract: what the worker writes by hand is what the
/// `Codable` type reads, key for key and value for value.
struct DecisionMatchTests {
    static let source = """
    threshold = 1
    margin = 0
    [eau-assainissement]
    2: fuite
    1: "robinet"
    exclude: fuite de gaz
    [voirie]
    1 @anfa: trou
    """

    @Test func theWrittenJSONDecodesToTheSameMatches() throws {
        let text = "Fuite, fuite de gaz, robinet \"cassé\", fuite\n\ttrou"
        let result = Classifier(rules: try rules(Self.source)).classify(text, arrondissement: "ain-chock")
        let statuses = Set(result.matches.map(\.status.code))
        #expect(statuses.isSuperset(of: ["counted", "repeated", "excluded", "outside-arrondissement"]), "\(statuses)")
        let written = DecisionMatch.decode(result.matchesJSON)
        #expect(written == result.matches.map(DecisionMatch.init))
        // The same values through Foundation's encoder: no key is spelt differently.
        let encoded = String(decoding: try JSONEncoder().encode(written), as: UTF8.self)
        #expect(DecisionMatch.decode(encoded) == written)
    }

    @Test func countedTextsAreThoseOfTheDepartmentOnceEachInOrder() throws {
        let result = Classifier(rules: try rules(Self.source)).classify("robinet, Fuite, fuite, robinet, trou", arrondissement: "anfa")
        let matches = DecisionMatch.decode(result.matchesJSON)
        #expect(DecisionMatch.countedTexts(matches, for: "eau-assainissement") == ["robinet", "Fuite"])
        #expect(DecisionMatch.countedTexts(matches, for: "voirie") == ["trou"])
        #expect(DecisionMatch.countedTexts(matches, for: "transport").isEmpty)
    }

    @Test func anUnreadableRecordIsNoMatches() {
        #expect(DecisionMatch.decode(nil).isEmpty)
        #expect(DecisionMatch.decode("{not json").isEmpty)
        #expect(DecisionMatch.decode("[]").isEmpty)
    }
}
