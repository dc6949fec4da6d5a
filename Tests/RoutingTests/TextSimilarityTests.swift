import Foundation
import Testing
@testable import Routing

/// Duplicate detection's text side: keys, Jaccard, and the threshold against labelled pairs.
@Suite("Text similarity for duplicates")
struct TextSimilarityTests {
    struct Pair {
        let duplicate: Bool
        let note: String
        let first: String
        let second: String
    }

    static func pairs() throws -> [Pair] {
        let path = ShippedRulesTests.repo.appendingPathComponent("Tests/Fixtures/duplicates/pairs.tsv").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4 else { return nil }
            return Pair(duplicate: f[0] == "dup", note: f[1], first: f[2], second: f[3])
        }
    }

    /// The definition of the keys, spelt out with `NormalizedWord`: what `keys(of:)` computes
    /// on the tokenizer's scalars (the routing worker's path) must equal it.
    static func definedKeys(of text: String) -> [Int32] {
        var keys: [Int32] = []
        for word in NormalizedWord.words(of: text) {
            let key: String
            switch word.script {
            case .digits:
                key = word.spelling
            case .arabic:
                if word.stem.unicodeScalars.count < 2 || TextSimilarity.isStopword(word.stem) { continue }
                key = String(String.UnicodeScalarView(word.stem.unicodeScalars.prefix(4)))
            case .latin:
                if word.stem.unicodeScalars.count < 3 || TextSimilarity.isStopword(word.stem) { continue }
                key = String(String.UnicodeScalarView(word.stem.unicodeScalars.prefix(5)))
            }
            var h: UInt32 = 0x811c9dc5
            for byte in key.utf8 { h = (h ^ UInt32(byte)) &* 0x01000193 }
            keys.append(Int32(bitPattern: h))
        }
        return Array(Set(keys)).sorted()
    }

    @Test("keys are the defined ones on every text of the dev corpus and the duplicate pairs")
    func keysFollowTheDefinition() throws {
        let path = ShippedRulesTests.repo.appendingPathComponent("config/corpus/dev.tsv").path
        let corpus = try LabelledCorpus.parse(try String(contentsOfFile: path, encoding: .utf8), fileName: path)
        var texts = corpus.rows.map(\.text)
        for pair in try Self.pairs() { texts += [pair.first, pair.second] }
        texts += ["", "123 4567 ٣٤", "l'éclairage de l'avenue", "والزبل فالزنقة بالليل", "ZBEL zbel Zbal 7ay"]
        #expect(texts.count > 250)
        for text in texts {
            #expect(TextSimilarity.keys(of: text) == Self.definedKeys(of: text), "\(text)")
        }
    }

    @Test("keys are sorted, distinct, and the same for the same words in another form")
    func keysAreCanonical() {
        let keys = TextSimilarity.keys(of: "Les poubelles débordent, poubelle débordante!")
        #expect(keys == keys.sorted())
        #expect(Set(keys).count == keys.count)
        #expect(TextSimilarity.keys(of: "poubelles débordent") == TextSimilarity.keys(of: "POUBELLE débordante"))
        #expect(TextSimilarity.keys(of: "النفايات") == TextSimilarity.keys(of: "نفاية"))
        // Function words and greetings carry nothing.
        #expect(TextSimilarity.keys(of: "Bonjour, depuis dans les ديال في").isEmpty)
        // Numbers are kept: another street number is another place.
        #expect(TextSimilarity.keys(of: "rue 12") != TextSimilarity.keys(of: "rue 14"))
    }

    @Test("Jaccard: identical 1, disjoint 0, partial overlap in between")
    func jaccard() {
        #expect(TextSimilarity.similarity([1, 2, 3], [1, 2, 3]) == 1)
        #expect(TextSimilarity.similarity([1, 2], [3, 4]) == 0)
        #expect(TextSimilarity.similarity([1, 2, 3], [2, 3, 4]) == 0.5)
        #expect(TextSimilarity.similarity([], []) == 0)
    }

    @Test("the default threshold separates the labelled pairs, and is the best threshold on them")
    func thresholdOnLabelledPairs() throws {
        let pairs = try Self.pairs()
        #expect(pairs.count >= 30)
        let scored = pairs.map { ($0, TextSimilarity.similarity($0.first, $0.second)) }
        func correct(at threshold: Double) -> Int {
            scored.filter { ($0.1 >= threshold) == $0.0.duplicate }.count
        }
        var best = (threshold: 0.0, correct: -1)
        for step in 20...80 {
            let t = Double(step) / 100
            if correct(at: t) > best.correct { best = (t, correct(at: t)) }
        }
        let atDefault = correct(at: TextSimilarity.defaultThreshold)
        let duplicates = scored.filter { $0.0.duplicate }
        let found = duplicates.filter { $0.1 >= TextSimilarity.defaultThreshold }.count
        let falseLinks = scored.filter { !$0.0.duplicate && $0.1 >= TextSimilarity.defaultThreshold }
        print("duplicate pairs: threshold \(TextSimilarity.defaultThreshold): \(atDefault)/\(pairs.count) right, "
              + "recall \(found)/\(duplicates.count), false links \(falseLinks.count); best threshold on the pairs "
              + "\(best.threshold) with \(best.correct)/\(pairs.count)")
        for (pair, s) in scored.sorted(by: { $0.1 < $1.1 }) {
            let wrong = (s >= TextSimilarity.defaultThreshold) != pair.duplicate
            print("  \(String(format: "%.2f", s)) \(pair.duplicate ? "dup" : "not") \(pair.note)\(wrong ? "  <- wrong" : "")")
        }
        // The default must be as good as the best threshold on these pairs, give or take one pair.
        #expect(atDefault >= best.correct - 1)
        #expect(Double(atDefault) / Double(pairs.count) >= 0.85)
        // Bag-of-words limits, kept in the pairs on purpose: the same wording about another street
        // name or another object is linked; recall must stay high, false links few.
        #expect(Double(found) / Double(duplicates.count) >= 0.9)
        #expect(Double(falseLinks.count) <= 0.2 * Double(pairs.count - duplicates.count))
    }

    @Test("the cases the worker must get right: paraphrase linked, another problem of the same street not")
    func requiredCases() {
        let original = "Les poubelles débordent devant l'école Al Amal, rue 12, ça sent très mauvais"
        let paraphrase = "Poubelle débordante devant école Al Amal rue 12, odeur horrible"
        let otherProblem = "Dépôt sauvage de gravats sur le trottoir rue 12 près du marché"
        #expect(TextSimilarity.similarity(original, paraphrase) >= TextSimilarity.defaultThreshold)
        #expect(TextSimilarity.similarity(original, otherProblem) < TextSimilarity.defaultThreshold)
    }
}
