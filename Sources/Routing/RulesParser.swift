/// Reads the routing-rules format (docs/routing-rules.md) line by line, collecting every problem
/// instead of stopping at the first, and normalises each keyword with the same pipeline as
/// complaint text.
struct RulesParser {
    let fileName: String
    private var errors: [RulesDiagnostic] = []
    private var warnings: [RulesDiagnostic] = []
    private var threshold = 1.0
    private var margin = 0.5
    private var ties = RuleSet.TieRule.triage
    private var section: Int?
    /// Inside the `[landmarks]` section, whose lines are factors, not department keywords.
    private var inLandmarks = false
    /// The last section header was wrong: its lines are not reported again as orphans.
    private var sectionInvalid = false
    private var rules: [Rule] = []
    private var patterns: [WordPattern] = []
    private var patternIds: [WordPattern: Int32] = [:]
    private var firstSeen: [String: (department: Int, line: Int)] = [:]
    private var tokenizer = Tokenizer()
    private var skeleton: [UInt32] = []

    init(fileName: String) {
        self.fileName = fileName
    }

    private typealias Scalars = [Unicode.Scalar]

    mutating func parse(_ source: String) throws(RulesFileError) -> RuleSet {
        var lineNumber = 0
        for rawLine in source.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Array(rawLine.unicodeScalars)
            if lineNumber == 1, line.first == "\u{FEFF}" { line[0] = " " }
            if let hash = line.firstIndex(of: "#") { line.removeSubrange(hash...) }
            if line.last == "\r" { line.removeLast() }
            parseLine(line, number: lineNumber)
        }
        for (index, department) in CityDirectory.departments.enumerated()
        where department.code != CityDirectory.triageCode && !rules.contains(where: { $0.department == index && !$0.isExclusion }) {
            warnings.append(diagnostic(0, 0, "department '\(department.code)' has no keywords: nothing will be routed to it",
                                       warning: true))
        }
        if !errors.isEmpty {
            // Only the errors: warnings about a file that cannot be used would bury them.
            throw RulesFileError(diagnostics: errors.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return RuleSet(fileName: fileName, threshold: threshold, margin: margin, ties: ties, rules: rules, patterns: patterns,
                       warnings: warnings)
    }

    private func diagnostic(_ line: Int, _ column: Int, _ message: String, warning: Bool = false) -> RulesDiagnostic {
        RulesDiagnostic(file: fileName, line: line, column: column, message: message, isWarning: warning)
    }

    private mutating func error(_ line: Int, _ column: Int, _ message: String) {
        errors.append(diagnostic(line, column, message))
    }

    private static func isSpace(_ s: Unicode.Scalar) -> Bool { s == " " || s == "\t" || s == "\u{A0}" }

    /// The trimmed range of `line[from..<to]`, or nil when it is blank.
    private static func trimmed(_ line: Scalars, _ from: Int, _ to: Int) -> Range<Int>? {
        var a = from, b = to
        while a < b && isSpace(line[a]) { a += 1 }
        while b > a && isSpace(line[b - 1]) { b -= 1 }
        return a < b ? a..<b : nil
    }

    private static func text(_ line: Scalars, _ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: line[range])
        return String(view)
    }

    private mutating func parseLine(_ line: Scalars, number: Int) {
        guard let body = RulesParser.trimmed(line, 0, line.count) else { return }
        if line[body.lowerBound] == "[" {
            parseSection(line, body, number: number)
        } else if let colon = line[body].firstIndex(of: ":") {
            parseRule(line, head: body.lowerBound..<colon, terms: (colon + 1)..<body.upperBound, number: number)
        } else if let equals = line[body].firstIndex(of: "=") {
            parseSetting(line, name: body.lowerBound..<equals, value: (equals + 1)..<body.upperBound, number: number)
        } else {
            error(number, body.lowerBound + 1,
                  "cannot read this line: expected '[department]', 'WEIGHT: keyword | keyword', 'exclude: phrase' or 'name = value'")
        }
    }

    private mutating func parseSection(_ line: Scalars, _ body: Range<Int>, number: Int) {
        guard let close = line[body].firstIndex(of: "]") else {
            error(number, body.upperBound + 1, "missing ']' after the department code")
            section = nil
            sectionInvalid = true
            return
        }
        if let rest = RulesParser.trimmed(line, close + 1, body.upperBound) {
            error(number, rest.lowerBound + 1, "unexpected text after ']'")
        }
        guard let codeRange = RulesParser.trimmed(line, body.lowerBound + 1, close) else {
            error(number, body.lowerBound + 2, "empty department code")
            section = nil
            sectionInvalid = true
            return
        }
        let code = RulesParser.text(line, codeRange)
        sectionInvalid = false
        inLandmarks = code == RulesParser.landmarksSection
        if inLandmarks {
            section = CityDirectory.departments.firstIndex { $0.code == CityDirectory.triageCode }
        } else if let index = CityDirectory.departments.firstIndex(where: { $0.code == code }) {
            section = index
        } else {
            error(number, codeRange.lowerBound + 1,
                  "unknown department code '\(code)'; known codes: \(CityDirectory.departments.map(\.code).joined(separator: ", "))")
            section = nil
            sectionInvalid = true
        }
    }

    private mutating func parseSetting(_ line: Scalars, name: Range<Int>, value: Range<Int>, number: Int) {
        guard let nameRange = RulesParser.trimmed(line, name.lowerBound, name.upperBound) else {
            error(number, name.lowerBound + 1, "a setting needs a name before '='")
            return
        }
        let key = RulesParser.text(line, nameRange)
        let valueRange = RulesParser.trimmed(line, value.lowerBound, value.upperBound)
        let valueText = valueRange.map { RulesParser.text(line, $0) } ?? ""
        let column = (valueRange?.lowerBound ?? value.lowerBound) + 1
        if key == "ties" {
            if let rule = RuleSet.TieRule(rawValue: valueText) {
                ties = rule
            } else {
                error(number, column, "unknown ties rule '\(valueText)': write 'triage' or 'first'")
            }
            return
        }
        guard key == "threshold" || key == "margin" else {
            error(number, nameRange.lowerBound + 1, "unknown setting '\(key)'; settings are 'threshold', 'margin' and 'ties'")
            return
        }
        guard let number_ = Double(valueText), number_.isFinite, number_ >= 0 else {
            error(number, column, "malformed \(key) '\(valueText)': write a number such as 2 or 0.5")
            return
        }
        if key == "threshold" { threshold = number_ } else { margin = number_ }
    }

    static let landmarksSection = "landmarks"

    private mutating func parseRule(_ line: Scalars, head: Range<Int>, terms: Range<Int>, number: Int) {
        let headRange = RulesParser.trimmed(line, head.lowerBound, head.upperBound)
        let headText = headRange.map { RulesParser.text(line, $0) } ?? ""
        var weight = 0.0
        var isExclusion = false
        var mask: UInt32 = 0
        var valid = true
        if headText == "exclude" {
            isExclusion = true
            if inLandmarks {
                error(number, (headRange?.lowerBound ?? 0) + 1, "'exclude' has no meaning in [landmarks]: write FACTOR: phrase")
                valid = false
            }
        } else {
            var weightEnd = head.upperBound
            if let at = line[head].firstIndex(of: "@") {
                weightEnd = at
                var start = at + 1
                for k in (at + 1)...head.upperBound where k == head.upperBound || line[k] == "," {
                    if let r = RulesParser.trimmed(line, start, k) {
                        let code = RulesParser.text(line, r)
                        let bit = CityDirectory.arrondissementBit(code)
                        if bit != 0 {
                            mask |= bit
                        } else {
                            error(number, r.lowerBound + 1, "unknown arrondissement code '\(code)'")
                            valid = false
                        }
                    } else {
                        error(number, start + 1, "empty arrondissement code after '@' or ','")
                        valid = false
                    }
                    start = k + 1
                }
            }
            let w = RulesParser.trimmed(line, head.lowerBound, weightEnd)
            let wText = w.map { RulesParser.text(line, $0) } ?? ""
            if inLandmarks {
                if let value = Double(wText), value.isFinite, value >= 0, value < 1 {
                    weight = value
                } else {
                    error(number, (w?.lowerBound ?? head.lowerBound) + 1,
                          "malformed landmark factor '\(wText)': write a number from 0 to below 1, such as 0.5")
                    valid = false
                }
            } else if let value = Double(wText), value.isFinite, value > 0, value <= 1000 {
                weight = value
            } else {
                error(number, (w?.lowerBound ?? head.lowerBound) + 1,
                      "malformed weight '\(wText)': write a positive number such as 2 or 0.5, or 'exclude'")
                valid = false
            }
        }
        guard let department = section else {
            if sectionInvalid { return }
            error(number, (headRange?.lowerBound ?? 0) + 1, "keywords before any [department] section")
            return
        }
        var start = terms.lowerBound
        for k in terms.lowerBound...terms.upperBound where k == terms.upperBound || line[k] == "|" {
            defer { start = k + 1 }
            guard let r = RulesParser.trimmed(line, start, k) else {
                error(number, start + 1, "empty keyword (nothing between '|' or after ':')")
                continue
            }
            guard valid, var rule = compileTerm(line, r, number: number) else { continue }
            rule.department = department
            rule.weight = weight
            rule.isExclusion = isExclusion
            rule.arrondissementMask = mask
            rule.isLandmark = inLandmarks
            if !isExclusion && !inLandmarks { checkDuplicate(rule) }
            rules.append(rule)
        }
    }

    private mutating func checkDuplicate(_ rule: Rule) {
        let key = rule.canonical
        if let first = firstSeen[key] {
            let there = CityDirectory.departments[first.department].code
            let message = first.department == rule.department
                ? "keyword '\(rule.term)' repeats line \(first.line) of [\(there)]"
                : "keyword '\(rule.term)' is in [\(CityDirectory.departments[rule.department].code)] here and in [\(there)] at line \(first.line)"
            warnings.append(diagnostic(rule.line, rule.column, message, warning: true))
        } else {
            firstSeen[key] = (rule.department, rule.line)
        }
    }

    /// Normalises one term: words split on spaces, `~word` compared by skeleton, `word*` by prefix.
    private mutating func compileTerm(_ line: Scalars, _ range: Range<Int>, number: Int) -> Rule? {
        let term = RulesParser.text(line, range)
        let column = range.lowerBound + 1
        var ids: [Int32] = []
        var canonical: [String] = []
        var ok = true
        for word in term.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            var core = Substring(word)
            let bySkeleton = core.hasPrefix("~")
            if bySkeleton { core = core.dropFirst() }
            let byPrefix = core.hasSuffix("*")
            if byPrefix { core = core.dropLast() }
            tokenizer.tokenize(String(core))
            let tokens = tokenizer.tokens
            for (k, token) in tokens.enumerated() {
                var key: [UInt32] = []
                let isPrefix = byPrefix && k == tokens.count - 1
                tokenizer.scalars.withUnsafeBufferPointer {
                    let word = UnsafeBufferPointer(rebasing: $0[Int(token.normStart)..<Int(token.normEnd)])
                    // A prefix is not a plural: arros* must stay arros, not become arro* (which
                    // would find arrondissement).
                    if bySkeleton || isPrefix { key = Array(word) } else { Tokenizer.spelling(word, fold: token.fold, into: &key) }
                }
                if bySkeleton {
                    let keyed = key.withUnsafeBufferPointer { Skeleton.key($0, into: &skeleton) }
                    // One consonant is too few to compare (~dow would be every d); two are kept
                    // with the word's final vowel (Skeleton.key), but not as a prefix: ~lm* would
                    // find every word that opens with l and m.
                    guard keyed else {
                        error(number, column, "'~\(core)' keeps fewer than two consonants to compare; write its spellings without '~'")
                        ok = false
                        continue
                    }
                    if isPrefix && Skeleton.isShort(skeleton) {
                        error(number, column, "'~\(core)*' keeps two consonants: a '~' prefix needs three")
                        ok = false
                        continue
                    }
                    key = skeleton
                }
                if isPrefix && key.count < 3 {
                    error(number, column, "prefix keyword '\(core)*' is too short: at least three letters before '*'")
                    ok = false
                }
                let pattern = WordPattern(skeleton: bySkeleton, prefix: isPrefix, key: key)
                let id: Int32
                if let known = patternIds[pattern] {
                    id = known
                } else {
                    id = Int32(patterns.count)
                    patterns.append(pattern)
                    patternIds[pattern] = id
                }
                ids.append(id)
                var view = String.UnicodeScalarView()
                for v in key { if let u = Unicode.Scalar(v) { view.append(u) } }
                canonical.append((bySkeleton ? "~" : "") + String(view) + (isPrefix ? "*" : ""))
            }
        }
        if ids.isEmpty && ok {
            error(number, column, "keyword '\(term)' normalises to nothing (no letters or digits)")
            return nil
        }
        guard ok else { return nil }
        return Rule(term: term, department: 0, weight: 0, line: number, column: column, isExclusion: false,
                    arrondissementMask: 0, patterns: ids, canonical: canonical.joined(separator: " "))
    }
}
