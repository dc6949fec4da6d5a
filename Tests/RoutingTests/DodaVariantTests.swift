import Foundation
import Testing
@testable import Routing

/// The Darija Open Dataset (Tests/Fixtures/doda, MIT) as test data for spelling variants: each row
/// lists how people write one Darija word in Latin letters. A `~` keyword written with any one of
/// the spellings should find all the others (the row "meets"), and should not find the spellings
/// of an unrelated word (a "collision").
///
/// The figures go through the real pipeline: every spelling becomes a `~` keyword of a generated
/// rules file (a plain keyword when its skeleton is too short for `~`), and every spelling is
/// then classified as a complaint text, so tokenising, Arabizi digits, clitic and verb-prefix
/// peeling and the skeleton all take part, as they do for complaints.
struct DodaVariantTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/doda")
    /// The word lists whose rows are spelling variants (n1..n6) with an English gloss.
    static let lists = ["adjectives", "animals", "environment", "health", "nouns", "places", "professions", "verbs"]

    struct Row {
        let list: String
        let gloss: String
        let spellings: [String]
    }

    struct Figures {
        var rows = 0
        var variantRows = 0
        var meeting = 0
        var collisions = 0
        var share: Double { variantRows == 0 ? 0 : Double(meeting) / Double(variantRows) }
    }

    /// One CSV line with double-quoted fields (the fixtures have no embedded quotes or newlines).
    static func fields(_ line: Substring) -> [String] {
        var out: [String] = [], field = "", quoted = false
        for c in line {
            if c == "\"" { quoted.toggle() } else if c == "," && !quoted { out.append(field); field = "" } else { field.append(c) }
        }
        out.append(field)
        return out.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Groups of spellings the dataset itself links: the forms of one noun or adjective
    /// (masculine, feminine, plurals) and a verb with its noun. Words so linked share a root and
    /// meeting on one skeleton is no collision (kla and makla, ktab and ktoba).
    static func relatedForms() throws -> [[String]] {
        var groups: [[String]] = []
        for list in ["masculine_feminine_plural", "verb-to-noun"] {
            let text = try String(contentsOf: fixtures.appendingPathComponent("\(list).csv"), encoding: .utf8)
            for line in text.split(whereSeparator: \.isNewline).dropFirst() {
                let forms = fields(line).map { $0.lowercased() }.filter { !$0.isEmpty }
                if forms.count >= 2 { groups.append(forms) }
            }
        }
        return groups
    }

    static func load() throws -> [Row] {
        var rows: [Row] = []
        for list in lists {
            let text = try String(contentsOf: fixtures.appendingPathComponent("\(list).csv"), encoding: .utf8)
            let lines = text.split(whereSeparator: \.isNewline)
            guard let header = lines.first.map(fields) else { continue }
            let glossColumn = header.firstIndex(of: "eng")
            for line in lines.dropFirst() {
                let cells = fields(line)
                var spellings: [String] = []
                for (k, name) in header.enumerated() where name.hasPrefix("n") && k < cells.count {
                    let s = cells[k].lowercased()
                    // Keywords cannot hold the rules file's own syntax characters.
                    if !s.isEmpty, !spellings.contains(s), !s.contains(where: { "|:#*~[]=@".contains($0) }) { spellings.append(s) }
                }
                guard !spellings.isEmpty else { continue }
                let gloss = glossColumn.flatMap { $0 < cells.count ? cells[$0].lowercased() : nil } ?? ""
                rows.append(Row(list: list, gloss: gloss, spellings: spellings))
            }
        }
        return rows
    }

    /// A skeleton long enough for a `~` keyword in every word (Skeleton.key: the parser refuses
    /// fewer than two consonants), or 0.
    static func skeletonLength(_ word: String) -> Int {
        var tokenizer = Tokenizer()
        tokenizer.tokenize(word)
        var out: [UInt32] = [], total = 0
        for t in tokenizer.tokens {
            let keyed = tokenizer.scalars.withUnsafeBufferPointer {
                Skeleton.key(UnsafeBufferPointer(rebasing: $0[Int(t.normStart)..<Int(t.normEnd)]), into: &out)
            }
            if !keyed { return 0 }
            total += out.count
        }
        return total
    }

    /// A Latin spelling that carries the Darija article (lbiro, l3alam, elbab): docs/routing-rules.md
    /// asks for keywords without it, and the matcher peels it from the text.
    static func hasArticle(_ s: String) -> Bool {
        let c = Array(s), vowels: Set<Character> = ["a", "e", "i", "o", "u"]
        guard c.count > 2 else { return false }
        return (c[0] == "l" && !vowels.contains(c[1])) || (s.hasPrefix("el") && !vowels.contains(c[2]))
    }

    /// The spellings of a row that become keywords: all of them, or, written as the guide asks,
    /// those without the article (all when each has it).
    static func keywords(_ row: Row, withoutArticle: Bool) -> [String] {
        guard withoutArticle else { return row.spellings }
        let bare = row.spellings.filter { !hasArticle($0) }
        return bare.isEmpty ? row.spellings : bare
    }

    static func figures(_ rows: [Row], keywordsWithoutArticle: Bool = false) throws -> Figures {
        // One line per keyword; the line number says which row it came from. Every spelling of
        // a row is a text to find.
        var source = "threshold = 1\n[voirie]\n"
        var rowOfLine: [Int: Int] = [:]
        var linesOfRow: [Set<Int>] = []
        var line = 2
        for (r, row) in rows.enumerated() {
            var own = Set<Int>()
            defer { linesOfRow.append(own) }
            for s in keywords(row, withoutArticle: keywordsWithoutArticle) {
                line += 1
                let words = s.split(separator: " ")
                let keyword = skeletonLength(s) > 0 ? words.map { "~" + $0 }.joined(separator: " ") : s
                source += "1: \(keyword)\n"
                rowOfLine[line] = r
                own.insert(line)
            }
        }
        let classifier = Classifier(rules: try RuleSet.parse(source: source, fileName: "doda.conf"))
        var found: [[Set<Int>]] = []  // per row, per spelling: the lines whose keyword found it
        for row in rows {
            found.append(row.spellings.map { s in Set(classifier.classify(s, arrondissement: nil).matches.map(\.line)) })
        }
        var figures = Figures(rows: rows.count)
        // Union-find over spellings: a row's own spellings and the dataset's related forms.
        var parent: [String: String] = [:]
        func root(_ s: String) -> String {
            var x = s
            while let p = parent[x], p != x { x = p }
            return x
        }
        func join(_ group: [String]) {
            guard let first = group.first else { return }
            for s in group { let a = root(s), b = root(first); if a != b { parent[a] = b } }
        }
        for row in rows { join(row.spellings) }
        for group in try relatedForms() { join(group) }
        var pairs = Set<Int>()
        for (r, row) in rows.enumerated() {
            let own = linesOfRow[r]
            if row.spellings.count >= 2 {
                figures.variantRows += 1
                if found[r].allSatisfy({ own.isSubset(of: $0) }) { figures.meeting += 1 }
            }
            for hits in found[r] {
                for l in hits.subtracting(own) {
                    guard let other = rowOfLine[l], other != r else { continue }
                    let o = rows[other]
                    // The same word listed twice (another list, a synonym gloss) or a form the
                    // dataset links to it is no collision.
                    if o.gloss == row.gloss || root(o.spellings[0]) == root(row.spellings[0]) { continue }
                    pairs.insert(min(r, other) * rows.count + max(r, other))
                }
            }
        }
        figures.collisions = pairs.count
        return figures
    }

    @Test func spellingVariantsMeetWithoutMergingUnrelatedWords() throws {
        let rows = try Self.load()
        let f = try Self.figures(rows)
        print("DODa variant rows: \(f.variantRows) of \(f.rows); all spellings meet: \(f.meeting) "
            + "(\(String(format: "%.3f", f.share))); unrelated word pairs that meet: \(f.collisions)")
        #expect(f.variantRows > 1500)
        // The figures when this test was last changed: a change of the normaliser may raise the
        // share or lower the collisions, not the other way round. (0.688 and 2412 at first;
        // 0.726 and 2410 before two-consonant `~` keywords, whose words now meet: most of the
        // new pairs are words of two consonants ending alike, such as 7out fish and 7et wall;
        // 3683 before those keys also saw words after the article l-/el-.)
        #expect(f.share >= 0.917)
        #expect(f.collisions <= 3794)
        // The same with keywords written as the guide asks, without the article (lbiro is a text
        // for ~biro to find, not a keyword of its own).
        let bare = try Self.figures(rows, keywordsWithoutArticle: true)
        print("DODa variant rows, keywords without the article: all spellings meet: \(bare.meeting) "
            + "(\(String(format: "%.3f", bare.share))); unrelated word pairs that meet: \(bare.collisions)")
        #expect(bare.share >= f.share)
    }
}

