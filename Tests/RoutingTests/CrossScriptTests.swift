import Foundation
import Testing
@testable import Routing

/// One `~` keyword should find its Darija word in Arabic script and in Arabizi alike.
/// Tests/Fixtures/routing/cross-script.tsv (written for this project) lists everyday and complaint
/// words with their Latin and Arabic spellings, with and without the article. Every spelling
/// without the article becomes a `~` keyword of a generated rules file; every spelling is then
/// classified, through the whole pipeline, as a complaint text. A row meets when each of its
/// keywords finds all of its spellings; it meets across scripts when its Latin keywords find its
/// Arabic spellings and the other way round.
struct CrossScriptTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/routing/cross-script.tsv")

    struct Row {
        let latin: [String]
        let arabic: [String]
        let gloss: String
        var spellings: [String] { latin + arabic }
    }

    static func load() throws -> [Row] {
        let text = try String(contentsOf: fixture, encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).dropFirst().compactMap { line in
            let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard cells.count >= 3 else { return nil }
            let split = { (s: String) in s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            return Row(latin: split(cells[0]), arabic: split(cells[1]), gloss: cells[2])
        }
    }

    /// A spelling that carries the article (الزبل, lzbel, elma, ttobis): text to find, not a
    /// keyword (keywords are written without it, docs/routing-rules.md).
    static func hasArticle(_ s: String) -> Bool {
        if s.hasPrefix("ال") { return true }
        let c = Array(s), vowels: Set<Character> = ["a", "e", "i", "o", "u"]
        guard c.count > 2 else { return false }
        return (c[0] == "l" && !vowels.contains(c[1])) || s.hasPrefix("el") || (c[0] == c[1] && !vowels.contains(c[0]))
    }

    /// The keywords of one script: its spellings without the article, or all when each has one.
    static func keywords(_ forms: [String]) -> [String] {
        let bare = forms.filter { !hasArticle($0) }
        return bare.isEmpty ? forms : bare
    }

    /// Whether a `~` keyword of this spelling keeps only two consonants (Skeleton.key).
    static func isShort(_ s: String) -> Bool {
        var tokenizer = Tokenizer()
        tokenizer.tokenize(s)
        var out: [UInt32] = []
        return tokenizer.tokens.contains { t in
            tokenizer.scalars.withUnsafeBufferPointer {
                _ = Skeleton.key(UnsafeBufferPointer(rebasing: $0[Int(t.normStart)..<Int(t.normEnd)]), into: &out)
            }
            return Skeleton.isShort(out)
        }
    }

    @Test func darijaWordsMeetAcrossScripts() throws {
        let rows = try Self.load()
        var source = "threshold = 1\n[voirie]\n"
        var line = 2
        var lineOf: [Int: [String: Int]] = [:]  // row -> keyword spelling -> its line
        var rowOfLine: [Int: Int] = [:]
        for (r, row) in rows.enumerated() {
            for k in Self.keywords(row.latin) + Self.keywords(row.arabic) {
                line += 1
                source += "1: ~\(k)\n"
                lineOf[r, default: [:]][k] = line
                rowOfLine[line] = r
            }
        }
        let classifier = Classifier(rules: try RuleSet.parse(source: source, fileName: "cross-script.conf"))
        var meeting = 0, acrossScripts = 0, shortRows = 0, shortMeeting = 0
        var pairs = Set<Int>()
        for (r, row) in rows.enumerated() {
            var found: [String: Set<Int>] = [:]
            for s in row.spellings { found[s] = Set(classifier.classify(s, arrondissement: nil).matches.map(\.line)) }
            let keys = lineOf[r] ?? [:]
            let finds = { (k: String, s: String) in keys[k].map { found[s]?.contains($0) == true } ?? false }
            let meets = keys.keys.allSatisfy { k in row.spellings.allSatisfy { finds(k, $0) } }
            let across = Self.keywords(row.latin).allSatisfy { k in row.arabic.allSatisfy { finds(k, $0) } }
                && Self.keywords(row.arabic).allSatisfy { k in row.latin.allSatisfy { finds(k, $0) } }
            if meets { meeting += 1 }
            if across { acrossScripts += 1 }
            if keys.keys.contains(where: Self.isShort) {
                shortRows += 1
                if meets { shortMeeting += 1 }
            }
            for hits in found.values {
                for l in hits {
                    guard let other = rowOfLine[l], other != r else { continue }
                    pairs.insert(min(r, other) * rows.count + max(r, other))
                }
            }
        }
        print("cross-script rows: \(rows.count); all spellings meet: \(meeting); Latin and Arabic script meet: "
            + "\(acrossScripts) (\(String(format: "%.3f", Double(acrossScripts) / Double(rows.count)))); "
            + "rows with a two-consonant key: \(shortRows), of which meet: \(shortMeeting); unrelated word pairs that meet: \(pairs.count)")
        #expect(rows.count >= 90)
        // The figures when this test was written: every row meets. The pairs are words whose
        // skeletons coincide (مقطوع and مقاطعة, اللحم and الحومة) or forms of one word (كلب and
        // كلاب, حفرة and حفاري), which no spelling rule can part.
        #expect(acrossScripts == rows.count)
        #expect(meeting == rows.count)
        #expect(pairs.count <= 4)
    }
}
