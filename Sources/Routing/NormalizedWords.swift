/// The words of a text after the routing normalisation, one value per token, for code that
/// compares texts with each other (duplicates) or mines them for keywords (rule suggestions)
/// rather than matching them against rules.
///
/// Built on the same `Tokenizer` as the matcher, so that a word seen here is a word a keyword
/// can be written for.
public struct NormalizedWord: Sendable, Hashable {
    /// Which letters the word is written in.
    public enum Script: Sendable, Hashable { case latin, arabic, digits }

    public let script: Script
    /// The normalised spelling, French plurals folded (`poubelles` -> `poubelle`).
    public let spelling: String
    /// The spelling without a leading Arabic article or its compounds (ال وال بال فال كال لل),
    /// as Arabic keywords are written; the spelling itself for other words.
    public let stem: String
    /// The Darija consonant skeleton of the stem (what a `~` keyword compares), empty for digits.
    public let skeleton: String

    /// The words of `text`, in order.
    public static func words(of text: String) -> [NormalizedWord] {
        var tokenizer = Tokenizer()
        tokenizer.tokenize(text)
        var out: [NormalizedWord] = []
        out.reserveCapacity(tokenizer.tokens.count)
        var folded: [UInt32] = []
        var skeleton: [UInt32] = []
        tokenizer.scalars.withUnsafeBufferPointer { all in
            for token in tokenizer.tokens {
                let word = UnsafeBufferPointer(rebasing: all[Int(token.normStart)..<Int(token.normEnd)])
                Tokenizer.spelling(word, fold: token.fold, into: &folded)
                let spelling = string(folded[...])
                let stemStart = token.script == .arabic ? articleLength(folded) : 0
                let stem = stemStart == 0 ? spelling : string(folded[stemStart...])
                var skeletonText = ""
                if token.script != .digits {
                    folded.withUnsafeBufferPointer {
                        Skeleton.build(UnsafeBufferPointer(rebasing: $0[stemStart...]), into: &skeleton)
                    }
                    skeletonText = string(skeleton[...])
                }
                let script: Script = switch token.script {
                case .latin: .latin
                case .arabic: .arabic
                case .digits: .digits
                }
                out.append(NormalizedWord(script: script, spelling: spelling, stem: stem, skeleton: skeletonText))
            }
        }
        return out
    }

    /// How many leading scalars of an Arabic spelling are its article (0: none), the stem keeping
    /// at least three.
    static func articleLength(_ folded: [UInt32]) -> Int {
        for article in articles where folded.count - article.count >= 3 && folded.starts(with: article) {
            return article.count
        }
        return 0
    }

    /// Longest first, so that وال is peeled whole rather than as و.
    private static let articles: [[UInt32]] = ["وال", "بال", "كال", "فال", "لل", "ال"]
        .map { $0.unicodeScalars.map(\.value) }

    private static func string(_ scalars: ArraySlice<UInt32>) -> String {
        var view = String.UnicodeScalarView()
        for v in scalars {
            if let u = Unicode.Scalar(v) { view.append(u) }
        }
        return String(view)
    }
}
