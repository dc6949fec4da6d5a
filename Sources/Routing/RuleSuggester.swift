import Foundation

/// One complaint whose right department is known: a correction staff made, a complaint the
/// router sent where it stayed, or a row of a labelled corpus.
public struct LabelledExample: Sendable {
    /// What a person looks it up by: a complaint reference, or a corpus row id.
    public let reference: String
    public let text: String
    public let arrondissement: String?
    /// Where it belongs.
    public let department: String

    public init(reference: String, text: String, arrondissement: String?, department: String) {
        self.reference = reference
        self.text = text
        self.arrondissement = arrondissement
        self.department = department
    }
}

/// A keyword the rules in force do not have, that would have routed corrected complaints right.
public struct RuleSuggestion: Sendable, Equatable {
    public let department: String
    /// The keyword as it is written in a rules file (`poubel*`, `~zbel`, `nid poule`).
    public let term: String
    public let weight: Double
    /// Complaints the rules get wrong that this keyword sends to the right department.
    public let fixed: Int
    /// Complaints the rules get right that this keyword would send elsewhere.
    public let broken: Int
    /// Up to two references of complaints it fixes, and of complaints it breaks.
    public let fixedExamples: [String]
    public let brokenExamples: [String]

    public var netGain: Int { fixed - broken }

    /// The keyword line as written in the department's section.
    public var line: String { "\(RuleSuggester.number(weight)): \(term)" }
}

/// What `rules suggest` found: the suggestions kept, in the order they were accepted (best net
/// gain first, each measured on top of the ones before it), and the figures before and after.
public struct SuggestionReport: Sendable {
    public let suggestions: [RuleSuggestion]
    /// Labelled complaints examined, and how many the rules in force route right.
    public let examined: Int
    public let rightBefore: Int
    /// How many the rules in force plus every suggestion route right.
    public let rightAfter: Int
    /// Candidate terms measured (after the support and specificity filters).
    public let candidatesMeasured: Int
    /// The rules in force followed by the suggestions, each with its figures as a comment.
    public let candidateFile: String
}

/// Mines labelled complaints for keywords the rules lack, and backtests each one.
///
/// Candidates come from the complaints the rules in force get wrong: each word's normalised
/// spelling, a prefix of it, its Darija skeleton (Arabic script and Arabizi words only: a French
/// word's skeleton would merge bus and bas), and two-word phrases. A candidate is kept for
/// measuring when it occurs in at least `minSupport` wrongly routed complaints of one department,
/// when at least `minShare` of all the labelled complaints it occurs in belong to that department,
/// and when no rule has it yet. Each is then measured by classifying the complaints it matches
/// with the rules plus that one keyword, at a few weights: fixed (wrong before, right after) and
/// broken (right before, wrong after). Keywords are accepted greedily by net gain, each measured
/// again on top of those accepted before it, so that two spellings of one fix are not both kept.
///
/// Pure: text in, text out; the database and the files are the caller's.
public struct RuleSuggester: Sendable {
    public var minSupport: Int
    public var minShare: Double
    /// At most this many suggestions are kept.
    public var limit: Int
    /// At most this many candidates are measured (the most supported first).
    public var maxMeasured: Int

    public init(minSupport: Int = 2, minShare: Double = 0.75, limit: Int = 60, maxMeasured: Int = 300) {
        self.minSupport = max(1, minSupport)
        self.minShare = minShare
        self.limit = limit
        self.maxMeasured = maxMeasured
    }

    /// Suggestions for `rulesSource` (the rules in force) from `examples`.
    public func suggest(rulesSource: String, fileName: String, examples: [LabelledExample]) throws(RulesFileError) -> SuggestionReport {
        let base = try RuleSet.parse(source: rulesSource, fileName: fileName)
        let known = Set(base.keywords.map(\.canonical))
        var predicted = predictions(Classifier(rules: base), examples, indices: Array(examples.indices))
        let rightBefore = examples.indices.filter { predicted[$0] == examples[$0].department }.count

        // 1. Candidate terms per department, counted in the complaints the rules get wrong.
        var counts: [Candidate: Set<Int>] = [:]
        for i in examples.indices where predicted[i] != examples[i].department
            && examples[i].department != CityDirectory.triageCode {
            for term in Self.terms(of: examples[i].text) {
                counts[Candidate(department: examples[i].department, term: term), default: []].insert(i)
            }
        }
        var candidates = counts.filter { $0.value.count >= minSupport }.map(\.key)
        // Each must be a valid keyword on its own, and new: neither written in the rules nor
        // already found by one of their keywords (poubelle is poubel*'s).
        let inForce = Classifier(rules: base)
        candidates = candidates.filter { candidate in
            guard let canonical = Self.canonical(of: candidate), !known.contains(canonical) else { return false }
            let bare = candidate.term.trimmingPrefix("~").replacingOccurrences(of: "*", with: "")
            return inForce.classify(String(bare), arrondissement: nil).matches.isEmpty
        }
        candidates.sort()

        // 2. Where each candidate really matches (the matcher's peeling and folding included),
        //    in one pass over the examples with every candidate compiled together.
        var hits: [Candidate: [Int]] = [:]
        if !candidates.isEmpty {
            var source = "threshold = 1\nmargin = 0\n"
            for department in Set(candidates.map(\.department)).sorted() {
                source += "[\(department)]\n"
                for candidate in candidates where candidate.department == department { source += "1: \(candidate.term)\n" }
            }
            let all = Classifier(rules: try RuleSet.parse(source: source, fileName: "candidates"))
            for i in examples.indices {
                let classification = all.classify(examples[i].text, arrondissement: examples[i].arrondissement)
                var seen = Set<Candidate>()
                for match in classification.matches {
                    let candidate = Candidate(department: match.department, term: match.term)
                    if seen.insert(candidate).inserted { hits[candidate, default: []].append(i) }
                }
            }
        }
        // Rare elsewhere: most labelled complaints it occurs in belong to its department.
        candidates = candidates.filter { candidate in
            guard let found = hits[candidate], !found.isEmpty else { return false }
            let own = found.filter { examples[$0].department == candidate.department }.count
            return Double(own) / Double(found.count) >= minShare
        }
        // Each measure classifies the candidate's complaints three times: keep the best supported.
        if candidates.count > maxMeasured {
            candidates = Array(candidates.sorted { ((counts[$0]?.count ?? 0), $1) > ((counts[$1]?.count ?? 0), $0) }
                .prefix(maxMeasured)).sorted()
        }

        // 3. Each candidate measured alone on top of the rules in force, at its best weight. The
        //    rules in force and every candidate are compiled once, together; a trial says which
        //    candidates count and at what weight (reparsing the rules per trial took minutes).
        let trials = try TrialRules(rulesSource: rulesSource, fileName: fileName, baseCount: base.termCount,
                                    candidates: candidates)
        var measured: [(candidate: Candidate, suggestion: RuleSuggestion)] = []
        for candidate in candidates {
            guard let suggestion = measure(candidate, with: trials, accepted: [:], threshold: base.threshold,
                                           examples: examples, hits: hits[candidate] ?? [], predicted: predicted)
            else { continue }
            measured.append((candidate, suggestion))
        }
        measured.sort { a, b in
            if a.suggestion.netGain != b.suggestion.netGain { return a.suggestion.netGain > b.suggestion.netGain }
            if a.suggestion.fixed != b.suggestion.fixed { return a.suggestion.fixed > b.suggestion.fixed }
            // On a tie the plainest keyword first: a word, then a phrase, a skeleton, a prefix.
            if a.candidate.kind != b.candidate.kind { return a.candidate.kind < b.candidate.kind }
            return a.candidate < b.candidate
        }

        // 4. Greedy: each measured again on top of those accepted before it.
        var accepted: [RuleSuggestion] = []
        var acceptedWeights: [Int32: Double] = [:]
        for (candidate, _) in measured where accepted.count < limit {
            guard let suggestion = measure(candidate, with: trials, accepted: acceptedWeights, threshold: base.threshold,
                                           examples: examples, hits: hits[candidate] ?? [], predicted: predicted),
                  let rule = trials.rule[candidate]
            else { continue }
            accepted.append(suggestion)
            acceptedWeights[rule] = suggestion.weight
            let affected = hits[candidate] ?? []
            let now = predictions(trials.classifier, examples, indices: affected,
                                  trial: Classifier.Trial(firstCandidate: trials.firstCandidate, weights: acceptedWeights))
            for i in affected { predicted[i] = now[i] }
        }
        let rightAfter = examples.indices.filter { predicted[$0] == examples[$0].department }.count
        return SuggestionReport(suggestions: accepted, examined: examples.count, rightBefore: rightBefore,
                                rightAfter: rightAfter, candidatesMeasured: measured.count,
                                candidateFile: Self.appending(accepted, to: rulesSource))
    }

    /// The rules text followed by the suggestions, grouped by department, each line with its
    /// figures as a comment. A department's section may appear twice in a file, so the text in
    /// force is kept exactly as it was.
    public static func appending(_ suggestions: [RuleSuggestion], to source: String) -> String {
        guard !suggestions.isEmpty else { return source }
        var out = source
        if !out.hasSuffix("\n") { out += "\n" }
        out += "\n# Suggested by `chikaya rules suggest` from the city's corrections: review each line, then\n"
        out += "# `chikaya rules backtest` and `chikaya rules publish` this file as usual.\n"
        var order: [String] = []
        for s in suggestions where !order.contains(s.department) { order.append(s.department) }
        for department in order {
            out += "\n[\(department)]\n"
            for s in suggestions where s.department == department {
                out += "\(s.line)    # suggested: +\(s.fixed) fixed, -\(s.broken) broken\n"
            }
        }
        return out
    }

    // MARK: measuring

    private struct Candidate: Hashable, Comparable {
        let department: String
        let term: String
        static func < (a: Candidate, b: Candidate) -> Bool { (a.department, a.term) < (b.department, b.term) }
        var kind: Int { term.hasSuffix("*") ? 3 : term.hasPrefix("~") ? 2 : term.contains(" ") ? 1 : 0 }
    }

    /// The rules in force followed by every candidate, compiled once: rule `rule[c]` is candidate
    /// c's, and a `Classifier.Trial` turns candidates on at a weight.
    private struct TrialRules {
        let classifier: Classifier
        let firstCandidate: Int32
        var rule: [Candidate: Int32] = [:]

        init(rulesSource: String, fileName: String, baseCount: Int, candidates: [Candidate]) throws(RulesFileError) {
            let all = candidates.map {
                RuleSuggestion(department: $0.department, term: $0.term, weight: 1, fixed: 0, broken: 0,
                               fixedExamples: [], brokenExamples: [])
            }
            let rules = try RuleSet.parse(source: RuleSuggester.appending(all, to: rulesSource), fileName: fileName)
            classifier = Classifier(rules: rules)
            firstCandidate = Int32(baseCount)
            for index in baseCount..<rules.rules.count {
                let compiled = rules.rules[index]
                rule[Candidate(department: CityDirectory.departments[compiled.department].code, term: compiled.term)] = Int32(index)
            }
        }
    }

    /// The candidate at its best weight on top of the rules in force and the `accepted`
    /// candidates, or nil when it fixes fewer than `minSupport` complaints or breaks as many as
    /// it fixes.
    private func measure(_ candidate: Candidate, with trials: TrialRules, accepted: [Int32: Double], threshold: Double,
                         examples: [LabelledExample], hits: [Int], predicted: [String]) -> RuleSuggestion? {
        guard !hits.isEmpty, let rule = trials.rule[candidate] else { return nil }
        var best: RuleSuggestion?
        for weight in Self.weights(threshold: threshold) {
            var weights = accepted
            weights[rule] = weight
            let now = predictions(trials.classifier, examples, indices: hits,
                                  trial: Classifier.Trial(firstCandidate: trials.firstCandidate, weights: weights))
            var fixed: [Int] = [], broken: [Int] = []
            for i in hits {
                let label = examples[i].department
                if predicted[i] != label && now[i] == label { fixed.append(i) }
                if predicted[i] == label && now[i] != label { broken.append(i) }
            }
            let suggestion = RuleSuggestion(department: candidate.department, term: candidate.term, weight: weight,
                                            fixed: fixed.count, broken: broken.count,
                                            fixedExamples: fixed.prefix(2).map { examples[$0].reference },
                                            brokenExamples: broken.prefix(2).map { examples[$0].reference })
            if best == nil || suggestion.netGain > best!.netGain { best = suggestion }
        }
        guard let best, best.fixed >= minSupport, best.netGain > 0 else { return nil }
        return best
    }

    /// The threshold itself (enough alone where nothing else matched), and one and two above it
    /// (to outweigh a department that matched by mistake).
    static func weights(threshold: Double) -> [Double] {
        let t = max(1, threshold.rounded(.up))
        return [t, t + 1, t + 2]
    }

    /// Each example's department under `classifier`, for the examples at `indices` (the others
    /// keep an empty string).
    private func predictions(_ classifier: Classifier, _ examples: [LabelledExample], indices: [Int],
                             trial: Classifier.Trial? = nil) -> [String] {
        var out = [String](repeating: "", count: examples.count)
        var workspace = Classifier.Workspace()
        for i in indices {
            var text = examples[i].text
            let bit = CityDirectory.arrondissementBit(examples[i].arrondissement)
            out[i] = text.withUTF8 {
                classifier.decide(utf8: $0, arrondissementBit: bit, workspace: &workspace, trial: trial)
            }.department
        }
        return out
    }

    // MARK: candidate terms

    /// The keyword candidates of one text: words, prefixes, Darija skeletons, two-word phrases.
    static func terms(of text: String) -> Set<String> {
        let words = NormalizedWord.words(of: text)
        var out = Set<String>()
        var previous: String?
        for word in words {
            guard word.script != .digits else { previous = nil; continue }
            let stem = writable(word.stem)
            let length = stem.unicodeScalars.count
            let useful = length >= 3 && !TextSimilarity.isStopword(word.stem)
            if useful {
                out.insert(stem)
                if length >= 6 {
                    out.insert(String(stem.unicodeScalars.prefix(length - 2)) + "*")
                }
                if word.skeleton.count >= 3 && (word.script == .arabic || Self.isArabizi(stem)) {
                    out.insert("~" + stem)
                }
            }
            if let previous, useful { out.insert(previous + " " + stem) }
            previous = useful ? stem : nil
        }
        return out
    }

    /// A Latin word written with the Arabizi digits (3 7 8 stay visible after normalisation; 9 and
    /// 5 become q and kh, which French has too, so those words are not offered a skeleton).
    private static func isArabizi(_ word: String) -> Bool {
        word.unicodeScalars.contains { $0 == "3" || $0 == "7" || $0 == "8" }
    }

    /// The normalised word as a person writes it in a rules file: the normaliser's letters for
    /// Arabizi 7 and 8 back to the digits, which it reads the same way again.
    private static func writable(_ stem: String) -> String {
        var view = String.UnicodeScalarView()
        for u in stem.unicodeScalars {
            switch u.value {
            case Tokenizer.arabiziH: view.append("7")
            case Tokenizer.arabiziEight: view.append("8")
            default: view.append(u)
            }
        }
        return String(view)
    }

    /// The canonical form of a candidate keyword, nil when it is not a valid keyword on its own.
    private static func canonical(of candidate: Candidate) -> String? {
        guard let rules = try? RuleSet.parse(source: "[\(candidate.department)]\n1: \(candidate.term)\n", fileName: "candidate")
        else { return nil }
        return rules.keywords.first?.canonical
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
