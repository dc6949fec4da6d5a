import Foundation
import Testing
@testable import Routing

/// The `routing_decisions.matches` contract: what the worker writes by hand is what `decode`
/// reads, value for value, and the records written before the compact form still read.
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
        let written = DecisionMatch.decode(result.matchesJSON, text: text)
        #expect(written == result.matches.map(DecisionMatch.init))
        // The matched words are cut from the complaint's text, not copied into the record.
        #expect(!result.matchesJSON.contains("cassé") && !result.matchesJSON.contains("Fuite"))
        #expect(written.map(\.text).contains("Fuite"))
        // The first form, an array of objects, through Foundation's encoder: the same values.
        let encoded = String(decoding: try JSONEncoder().encode(written), as: UTF8.self)
        #expect(encoded.hasPrefix("[{"))
        #expect(DecisionMatch.decode(encoded, text: "") == written)
    }

    @Test func aRecordOfTheFirstFormReadsAsWritten() {
        // As a decision of 2026-12-03 stored it, keys and all.
        let stored = #"[{"term":"fonctionnaire*","department":"etat-civil","weight":3,"rule":"config/routing-rules.conf:530","start":3,"end":16,"text":"fonctionnaire","status":"counted"},"#
            + #"{"term":"حايط","department":"urbanisme","weight":2,"rule":"config/routing-rules.conf:506","start":30,"end":42,"text":"الحائط","status":"repeated"}]"#
        let matches = DecisionMatch.decode(stored, text: "not the text these offsets were taken from")
        #expect(matches == [
            DecisionMatch(term: "fonctionnaire*", department: "etat-civil", weight: 3, rule: "config/routing-rules.conf:530",
                          start: 3, end: 16, text: "fonctionnaire", status: "counted"),
            DecisionMatch(term: "حايط", department: "urbanisme", weight: 2, rule: "config/routing-rules.conf:506",
                          start: 30, end: 42, text: "الحائط", status: "repeated"),
        ])
    }

    @Test func theCompactFormIsAsSpecifiedAndCutsTextsByByteOffsets() throws {
        let text = "l’ÉGOUT déborde, égout"
        let result = Classifier(rules: try rules("[eau-assainissement]\n3: egout\n")).classify(text, arrondissement: nil)
        #expect(result.matchesJSON == #"{"rules":"test.conf","hits":[["egout","eau-assainissement",3,2,4,10,"counted"],["egout","eau-assainissement",3,2,21,27,"repeated"]]}"#)
        #expect(DecisionMatch.decode(result.matchesJSON, text: text).map(\.text) == ["ÉGOUT", "égout"])
        // Offsets past the text (it cannot change, but a record must never stop a report) read as no words.
        #expect(DecisionMatch.decode(result.matchesJSON, text: "égout").map(\.text) == ["", ""])
        #expect(DecisionMatch.decode(result.matchesJSON, text: "égout").map(\.rule) == ["test.conf:2", "test.conf:2"])
    }

    @Test func countedTextsAreThoseOfTheDepartmentOnceEachInOrder() throws {
        let text = "robinet, Fuite, fuite, robinet, trou"
        let result = Classifier(rules: try rules(Self.source)).classify(text, arrondissement: "anfa")
        let matches = DecisionMatch.decode(result.matchesJSON, text: text)
        #expect(DecisionMatch.countedTexts(matches, for: "eau-assainissement") == ["robinet", "Fuite"])
        #expect(DecisionMatch.countedTexts(matches, for: "voirie") == ["trou"])
        #expect(DecisionMatch.countedTexts(matches, for: "transport").isEmpty)
    }

    @Test func anUnreadableRecordIsNoMatches() {
        #expect(DecisionMatch.decode(nil, text: "trou").isEmpty)
        #expect(DecisionMatch.decode("{not json", text: "trou").isEmpty)
        #expect(DecisionMatch.decode("[]", text: "trou").isEmpty)
        #expect(DecisionMatch.decode(#"{"rules":"a.conf","hits":[["trou","voirie",1]]}"#, text: "trou").isEmpty)
    }
}
