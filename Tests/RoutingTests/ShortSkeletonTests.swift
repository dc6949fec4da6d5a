import Testing
@testable import Routing

/// `~` keywords of two consonants (Skeleton.key): compared by skeleton and by how the word ends,
/// and only on the word as written, never on what peeling a clitic leaves of a longer word.
struct ShortSkeletonTests {
    static let source = """
    threshold = 1
    margin = 0
    [eau-assainissement]
    2: ~lma
    [hygiene]
    2: ~mech
    """

    @Test(arguments: [
        ("lma", "eau-assainissement"), ("lme", "eau-assainissement"), ("elma", "eau-assainissement"),
        ("الما", "eau-assainissement"),   // ا ل م ا: l m, ending in a
        ("الماء", "eau-assainissement"),  // a final hamza is no letter of its own
        ("mech", "hygiene"), ("mch", "hygiene"), ("moch", "hygiene"),
        ("مش", "hygiene"),               // م ش: the same two consonants, ending in one
    ])
    func spellingsOfOneShortWordMeet(text: String, expected: String) throws {
        #expect(try route(text, Self.source) == expected)
    }

    @Test(arguments: [
        "alam",    // l m, but ending in a consonant
        "lmou",    // l m, ending in u
        "mcha",    // m ch, ending in a: went, not cat
        "flma",    // f l m: a clitic is not peeled down to two consonants
        "blama",   // b l m
        "lmakla",  // l m k l
    ])
    func otherWordsDoNotMeetAShortKey(text: String) throws {
        #expect(try route(text, Self.source) == "triage")
    }

    @Test func theKeyNamesTheEnding() {
        func key(_ word: String) -> String? {
            var tokenizer = Tokenizer()
            tokenizer.tokenize(word)
            var out: [UInt32] = []
            let keyed = tokenizer.scalars.withUnsafeBufferPointer { Skeleton.key($0, into: &out) }
            return keyed ? String(String.UnicodeScalarView(out.compactMap(Unicode.Scalar.init))) : nil
        }
        #expect(key("lme") == "lm_a")
        #expect(key("7ouma") == "hm_a")
        #expect(key("twil") == "tl")
        #expect(key("zbel") == "zbl")   // three consonants: the skeleton alone, as before
        #expect(key("dow") == nil)      // one consonant: no key
    }
}
