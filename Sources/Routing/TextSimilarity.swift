/// How alike two complaints' texts are, for finding the same problem reported twice.
///
/// A text becomes a set of word keys: each word normalised as for routing, its Arabic article
/// peeled, cut to its first letters (4 in Arabic script, 5 otherwise: débordent and débordante,
/// نفايات and نفاية meet), with common function words and greetings left out and numbers kept
/// (rue 12 is not rue 14). Two texts are compared by the Jaccard index of their key sets. Keys are
/// 32-bit FNV-1a hashes of the key text, stable across processes and machines, so that the
/// database can keep them with each decision and a later complaint compares with them without
/// reading the earlier text again.
public enum TextSimilarity {
    /// The similarity from which two complaints of the same place and department are linked, tuned
    /// on the labelled pairs of Tests/Fixtures/duplicates/pairs.tsv (see TextSimilarityTests): the
    /// paraphrases there score 0.60 and more, other problems 0.43 and less, bar three pairs that
    /// say the same words about another street or object (0.67 to 0.75), which Jaccard cannot tell apart.
    public static let defaultThreshold = 0.5

    /// The sorted, distinct keys of `text`: per word, its stem (`NormalizedWord.stem`) cut to
    /// four scalars in Arabic script and five in Latin, or the whole number, hashed; stopwords and
    /// shorter stems left out.
    ///
    /// Computed on the tokenizer's scalars, without the `NormalizedWord` strings and skeletons
    /// that this does not use: they were a fifth of the routing worker's CPU. A test holds it to
    /// the definition above, written with `NormalizedWord`.
    public static func keys(of text: String) -> [Int32] {
        var tokenizer = Tokenizer()
        tokenizer.tokenize(text)
        return keys(of: tokenizer)
    }

    /// The keys of the text `tokenizer` last read: the routing worker takes them from the
    /// matcher's own tokens instead of reading each complaint a second time.
    static func keys(of tokenizer: Tokenizer) -> [Int32] {
        var keys: [Int32] = []
        keys.reserveCapacity(tokenizer.tokens.count)
        var folded: [UInt32] = []
        tokenizer.scalars.withUnsafeBufferPointer { all in
            for token in tokenizer.tokens {
                let word = UnsafeBufferPointer(rebasing: all[Int(token.normStart)..<Int(token.normEnd)])
                Tokenizer.spelling(word, fold: token.fold, into: &folded)
                switch token.script {
                case .digits:
                    keys.append(hash(folded[...]))
                case .arabic, .latin:
                    let stem = folded[(token.script == .arabic ? NormalizedWord.articleLength(folded) : 0)...]
                    let (shortest, longest) = token.script == .arabic ? (2, 4) : (3, 5)
                    if stem.count < shortest || stopwordScalars.contains(Array(stem)) { continue }
                    keys.append(hash(stem.prefix(longest)))
                }
            }
        }
        keys.sort()
        var out: [Int32] = []
        out.reserveCapacity(keys.count)
        for k in keys where out.last != k { out.append(k) }
        return out
    }

    /// The Jaccard index of two sorted, distinct key lists: shared keys over all keys, 0 when
    /// both are empty.
    public static func similarity(_ a: [Int32], _ b: [Int32]) -> Double {
        if a.isEmpty && b.isEmpty { return 0 }
        var i = 0, j = 0, shared = 0
        while i < a.count && j < b.count {
            if a[i] == b[j] {
                shared += 1; i += 1; j += 1
            } else if a[i] < b[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return Double(shared) / Double(a.count + b.count - shared)
    }

    /// Both texts' similarity, for tools and tests.
    public static func similarity(_ a: String, _ b: String) -> Double {
        similarity(keys(of: a), keys(of: b))
    }

    /// True for the function words and greetings that keys leave out (given a normalised stem).
    static func isStopword(_ stem: String) -> Bool { stopwords.contains(stem) }

    /// FNV-1a over the UTF-8 bytes of the scalars.
    private static func hash(_ scalars: ArraySlice<UInt32>) -> Int32 {
        var h: UInt32 = 0x811c9dc5
        func add(_ byte: UInt32) { h = (h ^ byte) &* 0x01000193 }
        for v in scalars {
            switch v {
            case ..<0x80:
                add(v)
            case ..<0x800:
                add(0xC0 | v >> 6); add(0x80 | v & 0x3F)
            case 0xD800...0xDFFF:
                continue // not a scalar (the tokenizer makes none)
            case ..<0x1_0000:
                add(0xE0 | v >> 12); add(0x80 | v >> 6 & 0x3F); add(0x80 | v & 0x3F)
            case ..<0x11_0000:
                add(0xF0 | v >> 18); add(0x80 | v >> 12 & 0x3F); add(0x80 | v >> 6 & 0x3F); add(0x80 | v & 0x3F)
            default:
                continue
            }
        }
        return Int32(bitPattern: h)
    }

    /// The stopwords as the tokenizer's scalars, as `keys` compares them.
    private static let stopwordScalars: Set<[UInt32]> = Set(stopwords.map { $0.unicodeScalars.map(\.value) })

    /// Words that say nothing about the problem, normalised as the texts are (so written
    /// naturally here): French, Arabic and Darija in both scripts.
    private static let stopwords: Set<String> = {
        let written = """
        les des une est pour dans sur que qui pas avec par mais plus tres son ses nous vous ils elle elles cette ces cet
        depuis deja aussi tout tous toute toutes comme sont ont avons fait etre avoir rien car donc leur leurs notre
        votre alors encore bonjour merci monsieur madame svp sil plait aux chez ici cela celui quand
        في من على الى عن هذا هذه هاد هادي هادا ديال اللي الي كل مع منذ بعد قبل حتى غير شي واحد عند كان كانت راه
        راها راهم هو هي انا حنا نحن ان او ثم قد لم لن تم بزاف السلام عليكم شكرا الله لله والله ماشي فيها فيه عليها
        dyal dial diel had hadi hada fih fiha rah raha rahom kayn kayna kayen men 3la ila wach chi bzaf salam
        3afak allah lah walo mazal daba
        """
        var set = Set<String>()
        for word in written.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            for normalized in NormalizedWord.words(of: String(word)) { set.insert(normalized.stem) }
        }
        return set
    }()
}
