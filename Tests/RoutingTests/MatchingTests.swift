import Testing
@testable import Routing

/// Clitics, the negation wrapper, and the substring pitfalls of whole-token matching.
struct MatchingTests {
    static let water = """
    threshold = 1
    margin = 0
    [eau-assainissement]
    2: ماء | الما | eau | lma | ~robini
    [eclairage]
    2: ضو | lampadaire
    [proprete]
    2: ~zbel | poubel*
    [circulation]
    2: ~tomobil*
    """

    @Test(arguments: [
        ("والماء مقطوع", "eau-assainissement"),     // و + ال peeled
        ("بالماء", "eau-assainissement"),           // بال
        ("فالما", "eau-assainissement"),            // ف then the Darija word الما
        ("للماء", "eau-assainissement"),            // لل
        ("دالما", "eau-assainissement"),            // Darija د
        ("الضو طافي", "eclairage"),
        ("فالضو", "eclairage"),
        ("lzbel", "proprete"),                      // l-
        ("fzbel", "proprete"),                      // f-
        ("bzbel", "proprete"),                      // b-
        ("wzbel", "proprete"),                      // w-
        ("dzbel", "proprete"),                      // d-
        ("flzbel", "proprete"),                     // fl-
        ("elzbel", "proprete"),                     // el-
        ("lrobini", "eau-assainissement"),
        ("الطوموبيلات", "circulation"),
    ])
    func cliticsArePeeled(text: String, expected: String) throws {
        #expect(try route(text, Self.water) == expected)
    }

    @Test func theOriginalTokenIsKept() throws {
        // "الما" is a keyword as written; peeling ال must not hide it.
        #expect(try route("الما", Self.water) == "eau-assainissement")
    }

    @Test(arguments: [
        ("ماكاينش الضو", "eclairage"),
        ("majach lma", "eau-assainissement"),
    ])
    func keywordsStillMatchNearTheNegation(text: String, expected: String) throws {
        #expect(try route(text, Self.water) == expected)
    }

    @Test func negationWrapperIsPeeled() throws {
        let source = "threshold = 1\nmargin = 0\n[transport]\n2: جا | ~9dr\n"
        #expect(try route("الطوبيس ماجاش", source) == "transport")   // ما…ش glued
        #expect(try route("ما جاش", source) == "transport")           // ما …ش split
        #expect(try route("ma9drch", source) == "transport")          // ma…ch
    }

    @Test(arguments: [
        "موضوع مهم",        // ضو inside موضوع
        "au bureau",        // eau inside bureau
        "lmakla khayba",    // lma inside lmakla
        "beau temps",       // b- is not peeled for French words
    ])
    func noSubstringMatches(text: String) throws {
        #expect(try route(text, Self.water) == "triage")
    }

    @Test func prefixKeywordsMatchInflections() throws {
        #expect(try route("les poubelles", Self.water) == "proprete")
        #expect(try route("poubella 3amra", Self.water) == "proprete")
    }

    @Test func matchesCarryTheirSpanInTheOriginalText() throws {
        let text = "Le bus, l’ÉGOUT déborde"
        let result = Classifier(rules: try rules("[eau-assainissement]\n3: egout\n")).classify(text, arrondissement: nil)
        let match = try #require(result.matches.first)
        #expect(match.text == "ÉGOUT")
        #expect(match.line == 2)
        #expect(Array(text.utf8)[match.utf8Range].count == "ÉGOUT".utf8.count)
        #expect(DecisionMatch.decode(result.matchesJSON, text: text).map(\.rule) == ["test.conf:2"])
    }

    @Test func phrasesMatchAcrossTokensAndOverlapsAllCount() throws {
        let source = """
        threshold = 1
        margin = 0
        [etat-civil]
        2: acte de naissance
        1: naissance
        """
        let result = Classifier(rules: try rules(source)).classify("un acte de naissance svp", arrondissement: nil)
        #expect(result.matches.map(\.term).sorted() == ["acte de naissance", "naissance"])
        #expect(result.scores["etat-civil"] == 3)
    }
}
