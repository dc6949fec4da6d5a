import Testing
@testable import Routing

/// Threshold, margin, exclusions, arrondissement restriction and repeated words.
struct DecisionTests {
    static let source = """
    threshold = 2
    margin = 1
    [eau-assainissement]
    2: eau | fuite
    1: robinet
    exclude: descente d'eau pluviale
    [voirie]
    2: chaussee
    1: trou
    [transport]
    3 @sidi-moumen, ain-sebaa: tram
    """

    @Test func belowTheThresholdGoesToTriage() throws {
        #expect(try route("le robinet", Self.source) == "triage")       // 1 < 2
        #expect(try route("le robinet fuit, fuite", Self.source) == "eau-assainissement")  // 1 + 2
    }

    @Test func theMarginDecidesCloseCalls() throws {
        #expect(try route("fuite sur la chaussee", Self.source) == "triage")           // 2 vs 2
        #expect(try route("fuite sur la chaussee, robinet", Self.source) == "eau-assainissement")  // 3 vs 2
        let explained = Classifier(rules: try rules(Self.source)).classify("fuite sur la chaussee", arrondissement: nil)
        #expect(explained.explanation().contains("margin"))
        #expect(explained.runnerUp != nil)
    }

    @Test func withTiesFirstTheDepartmentNamedFirstWinsACloseCall() throws {
        let source = Self.source.replacingOccurrences(of: "margin = 1", with: "margin = 1\nties = first")
        #expect(try route("fuite sur la chaussee", source) == "eau-assainissement")   // 2 vs 2, eau first
        #expect(try route("la chaussee, une fuite", source) == "voirie")             // 2 vs 2, chaussee first
        #expect(try route("chaussee, fuite, robinet", source) == "eau-assainissement")  // 3 vs 2: outright
        #expect(try route("le robinet", source) == "triage")                          // still below the threshold
        let classifier = Classifier(rules: try rules(source))
        let close = classifier.classify("la chaussee, une fuite", arrondissement: nil)
        #expect(close.reason == .namedFirst)
        #expect(close.runnerUp == "eau-assainissement")
        #expect(close.explanation().contains("named first"))
        let outright = classifier.classify("chaussee, fuite, robinet", arrondissement: nil)
        #expect(outright.reason == .routed)
        #expect(close.confidence < outright.confidence)
    }

    @Test func theDecisionSaysWhyTheRulesAbstained() throws {
        let classifier = Classifier(rules: try rules(Self.source + "\n[triage]\n3: impot\n"))
        #expect(classifier.classify("rien a voir", arrondissement: nil).reason == .noKeyword)
        #expect(classifier.classify("le robinet", arrondissement: nil).reason == .belowThreshold)
        #expect(classifier.classify("fuite sur la chaussee", arrondissement: nil).reason == .tooClose)
        #expect(classifier.classify("impot sur l'eau", arrondissement: nil).reason == .triageKeywords)
        #expect(classifier.classify("fuite d'eau", arrondissement: nil).reason == .routed)
    }

    @Test func evaluationCountsTheReasonsAndCanLeaveOutTheTexts() throws {
        let corpus = try LabelledCorpus.parse("""
        id\tlang\tarrondissement\tdepartment\ttext
        a\tfr\t\teau-assainissement\tfuite d'eau
        b\tfr\t\tvoirie\tfuite sur la chaussee secrete
        c\tfr\t\ttriage\trien a voir
        """, fileName: "c.tsv")
        let evaluation = Evaluation(corpus: corpus, classifier: Classifier(rules: try rules(Self.source)))
        #expect(evaluation.triageShare > 0.66 && evaluation.triageShare < 0.67)
        #expect(evaluation.reasons.first { $0.reason == .tooClose }?.wrong == 1)
        #expect(evaluation.reasons.first { $0.reason == .noKeyword }?.right == 1)
        #expect(evaluation.report().contains("secrete"))
        #expect(!evaluation.report(rows: false).contains("secrete"))
        #expect(evaluation.report(rows: false).contains("too-close"))
    }

    @Test func keywordsJustAfterALandmarkCountTheirFactor() throws {
        let source = """
        threshold = 2
        margin = 1
        [proprete]
        3: poubelles
        [espaces-verts]
        3: jardin public
        [landmarks]
        0.25: pres du | قرب
        """
        let classifier = Classifier(rules: try rules(source))
        let near = classifier.classify("les poubelles debordent pres du jardin public", arrondissement: nil)
        #expect(near.department == "proprete")
        #expect(near.scores["espaces-verts"] == 0.75)
        #expect(near.matches.contains { $0.status == .nearLandmark(factor: 0.25, byLine: 8) })
        #expect(near.explanation().contains("landmark at line 8"))
        // Without the landmark, the park wins its tie as the department named first.
        #expect(try route("le jardin public, les poubelles debordent", "ties = first\n" + source) == "espaces-verts")
        // Beyond its reach of four words the landmark changes nothing.
        let far = classifier.classify("pres du marche il y a un jardin public et des poubelles", arrondissement: nil)
        #expect(far.scores["espaces-verts"] == 3)
        // A landmark is not a department keyword: alone it routes nothing.
        #expect(try route("pres du", source) == "triage")
    }

    @Test func twoKeywordsOnOneWordCountTheHeavier() throws {
        // The prefix is found first while hashing, the exact word after: the weight must not
        // depend on that order.
        let result = Classifier(rules: try rules("threshold = 1\n[eau-assainissement]\n1: assaini*\n3: assainissement\n"))
            .classify("assainissement", arrondissement: nil)
        #expect(result.scores["eau-assainissement"] == 3)
        #expect(result.matches.filter { $0.status == .counted }.map(\.term) == ["assainissement"])
    }

    @Test func aPrefixKeywordIsNotFoldedLikeAPlural() throws {
        let source = "threshold = 1\n[espaces-verts]\n3: arros*\n"
        #expect(try route("arrosage du parc", source) == "espaces-verts")
        #expect(try route("l'arrondissement", source) == "triage")
    }

    @Test func oneWordRepeatedDoesNotAddUp() throws {
        let result = Classifier(rules: try rules(Self.source)).classify("trou trou trou trou trou", arrondissement: nil)
        #expect(result.scores["voirie"] == 1)
        #expect(result.department == "triage")
        #expect(result.matches.filter { $0.status == .repeated }.count == 4)
    }

    @Test func exclusionsCancelTheKeywordsTheyCover() throws {
        #expect(try route("la descente d'eau pluviale est cassée", Self.source) == "triage")
        let result = Classifier(rules: try rules(Self.source)).classify("descente d'eau pluviale", arrondissement: nil)
        #expect(result.matches.first?.status == .excluded(byLine: 6))
        // The same word elsewhere in the text still counts.
        #expect(try route("descente d'eau pluviale, et de l'eau partout", Self.source) == "eau-assainissement")
    }

    @Test func arrondissementRestriction() throws {
        #expect(try route("le tram", Self.source, arrondissement: "sidi-moumen") == "transport")
        #expect(try route("le tram", Self.source, arrondissement: "ain-sebaa") == "transport")
        #expect(try route("le tram", Self.source, arrondissement: "anfa") == "triage")
        #expect(try route("le tram", Self.source, arrondissement: nil) == "triage")
    }

    @Test func confidenceIsBetweenZeroAndOne() throws {
        let classifier = Classifier(rules: try rules(Self.source))
        let strong = classifier.classify("fuite d'eau au robinet", arrondissement: nil)
        let weak = classifier.classify("fuite, robinet, trou", arrondissement: nil)
        #expect(strong.confidence > weak.confidence)
        #expect((0...1).contains(strong.confidence))
        #expect(classifier.classify("rien", arrondissement: nil).confidence == 0)
    }

    @Test func triageKeywordsWinTies() throws {
        let source = "threshold = 1\nmargin = 0\n[triage]\n2: impot\n[proprete]\n2: ~zbel\n"
        #expect(try route("impot dyal zbel", source) == "triage")
    }
}
