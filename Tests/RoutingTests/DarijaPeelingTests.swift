import Foundation
import Testing
@testable import Routing

/// Darija verb prefixes, Latin clitics for plain keywords, and ق said g: extra match candidates
/// that never replace the token as written.
struct DarijaPeelingTests {
    static let source = """
    threshold = 1
    margin = 0
    [eclairage]
    2: طفي | tfi | tfa
    [eau-assainissement]
    2: تقطع | ~t9ta3 | sed | eau | egout
    [proprete]
    2: poubella | poubelle | ordure
    [transport]
    2: tobis | rame
    [voirie]
    2: zen9a | ~zen9a
    """

    /// Aspect marker ك/كا/تا/ت(ي) and person ي/ت/ن are peeled; the stem keeps three letters.
    @Test(arguments: [
        ("كيطفي", "eclairage"),        // U+0643 U+064A | U+0637 U+0641 U+064A: كي + طفي
        ("كايطفي", "eclairage"),       // U+0643 U+0627 U+064A + طفي: كا + ي
        ("تيطفي", "eclairage"),        // U+062A U+064A + طفي: تي (Darija of the north and Casa)
        ("تايطفي", "eclairage"),       // U+062A U+0627 U+064A + طفي: تا + ي
        ("كيتقطع", "eau-assainissement"),  // U+0643 U+064A | U+062A U+0642 U+0637 U+0639: كي + تقطع
        ("كاتقطع", "eau-assainissement"),  // U+0643 U+0627 U+062A ...: كا + ت, skeleton t-q-t-3
        ("kaytfi", "eclairage"),       // kay + tfi
        ("kitfi", "eclairage"),        // contracted ki + tfi
        ("kaytfa", "eclairage"),       // kay + tfa
        ("katsed", "eau-assainissement"),  // ka + t + sed
        ("kayt9ta3", "eau-assainissement"), // ka + y, t9ta3 keeps its t: skeleton t-q-t-3
    ])
    func verbPrefixesArePeeled(text: String, expected: String) throws {
        #expect(try route(text, Self.source) == expected)
    }

    @Test(arguments: [
        "تنتشر",   // U+062A U+0646 U+062A U+0634 U+0631: MSA form VIII, not Darija تن + تشر
        "تنطفي",   // U+062A U+0646 ...: a bare ت is taken only before ي
        "كيس",     // U+0643 U+064A U+0633: the stem would keep one letter
        "titfi",   // ti- is not peeled in Latin letters (titre, tissu)
    ])
    func shortOrMsaWordsAreNotPeeled(text: String) throws {
        let source = "threshold = 1\nmargin = 0\n[circulation]\n2: تشر | طفي | tfi\n"
        #expect(try route(text, source) == "triage")
    }

    /// l- f- b- d- w- el- fl- and the assimilated article (tt-, zz-) reach plain keywords too.
    @Test(arguments: [
        ("lpoubella", "proprete"),     // l + poubella
        ("lpoubelles", "proprete"),    // l + poubelles, then the plural folded
        ("fpoubella", "proprete"),     // f +
        ("bpoubella", "proprete"),     // b +
        ("dpoubella", "proprete"),     // d +
        ("wpoubella", "proprete"),     // w +
        ("elpoubelle", "proprete"),    // el +
        ("flpoubella", "proprete"),    // fl +
        ("ttobis", "transport"),       // ط doubled by the article: الطوبيس
        ("ltobis", "transport"),
        ("fzen9a", "voirie"),          // f + zen9a
    ])
    func latinCliticsReachPlainKeywords(text: String, expected: String) throws {
        #expect(try route(text, Self.source) == expected)
    }

    /// A French word that starts like a clitic keeps its meaning: the rest would start with a
    /// vowel, or the pair is a French onset (bl br dr fl fr).
    @Test(arguments: [
        "beau temps",   // b + eau: vowel
        "bordure",      // b + ordure: vowel
        "quel degout",  // d + egout: vowel
        "un drame",     // d + rame: dr is French
        "lourd",        // l + ourd: vowel
    ])
    func frenchWordsAreNotPeeled(text: String) throws {
        #expect(try route(text, Self.source) == "triage")
    }

    /// ق is said g in Casablanca: zen9a, zenqa, zenga, znqa and زنقة meet by skeleton, while غ
    /// (gh) stays apart.
    @Test(arguments: [
        "zen9a",   // 9 -> q
        "zenqa",
        "zenga",   // g: ق said g
        "znqa",
        "fzenga",  // f- peeled for the skeleton
        "زنقة",    // U+0632 U+0646 U+0642 U+0629
        "زنڭة",    // U+0632 U+0646 U+06AD U+0629: ڭ written for the g
    ])
    func qafSaidGMeets(text: String) throws {
        #expect(try route(text, Self.source) == "voirie")
    }

    @Test func ghaynStaysApartFromQaf() {
        func skeleton(_ s: String) -> [UInt32] {
            var tokenizer = Tokenizer()
            tokenizer.tokenize(s)
            var out: [UInt32] = []
            tokenizer.scalars.withUnsafeBufferPointer { Skeleton.build($0, into: &out) }
            return out
        }
        #expect(skeleton("zenga") == skeleton("zen9a"))
        #expect(skeleton("ghta") == skeleton("غطا"))     // U+063A U+0637 U+0627
        #expect(skeleton("ghta") != skeleton("9ta"))
        #expect(skeleton("غطا") != skeleton("قطا"))       // U+063A vs U+0642
    }

    /// The shipped rules: parking in Darija is not برك (puddles), and a stop named as a place
    /// does not take the complaint to transport.
    @Test(arguments: [
        ("برك الماء في الطريق والحفر", "voirie"),
        ("كيباركيو فوق الطروطوار", "circulation"),
        ("pres de la station du tram, les poubelles debordent et les ordures sont partout", "proprete"),
        ("قرب محطة الطرام الحاويات ممتلئة والنفايات في كل مكان", "proprete"),
    ])
    func shippedRulesHandleLandmarksAndParking(text: String, expected: String) throws {
        let set = try RuleSet.load(path: ShippedRulesTests.repo.appendingPathComponent("config/routing-rules.conf").path)
        #expect(Classifier(rules: set).classify(text, arrondissement: nil).department == expected)
    }
}
