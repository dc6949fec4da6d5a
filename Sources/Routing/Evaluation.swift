/// How well a rule set routes a labelled corpus: the figures of `chikaya rules eval`.
public struct Evaluation: Sendable {
    /// Precision, recall and F1 of one department.
    public struct DepartmentScore: Sendable {
        public let department: String
        public let precision: Double
        public let recall: Double
        public let f1: Double
        public let support: Int
    }

    /// A row the rules sent somewhere else than its label.
    public struct Miss: Sendable {
        public let id: String
        public let lang: String
        public let expected: String
        public let predicted: String
        public let text: String
    }

    public let total: Int
    public let accuracy: Double
    public let accuracyByLanguage: [(lang: String, accuracy: Double, count: Int)]
    public let departments: [DepartmentScore]
    public let macroF1: Double
    /// confusion[expected][predicted] = count
    public let confusion: [String: [String: Int]]
    public let misses: [Miss]
    /// Share of rows sent to triage (right or wrong).
    public let triageShare: Double
    /// Rows by why the rules decided as they did (an outright win, a close call, or a reason to
    /// abstain), each with how many were right and wrong.
    public let reasons: [(reason: Classifier.Reason, right: Int, wrong: Int, wrongTriage: Int)]
    /// Rows routed to a wrong department, by how close the decision was: the winner's lead over
    /// the runner-up, in units of the margin (0 = exactly the margin).
    public let wrongDepartmentLeads: [(lead: String, count: Int)]

    public init(corpus: LabelledCorpus, classifier: Classifier) {
        var workspace = Classifier.Workspace()
        var pairs: [(LabelledCorpus.Row, String, String)] = []
        var reasons: [Classifier.Reason: (right: Int, wrong: Int, wrongTriage: Int)] = [:]
        var leads: [String: Int] = [:]
        for row in corpus.rows {
            guard let gold = row.department else { continue }
            var text = row.text
            let d = text.withUTF8 { classifier.decide(utf8: $0, arrondissement: row.arrondissement, workspace: &workspace) }
            pairs.append((row, gold, d.department))
            if gold == d.department {
                reasons[d.reason, default: (0, 0, 0)].right += 1
            } else {
                reasons[d.reason, default: (0, 0, 0)].wrong += 1
                if gold == CityDirectory.triageCode { reasons[d.reason, default: (0, 0, 0)].wrongTriage += 1 }
            }
            if d.reason == .routed && gold != d.department {
                let scores = workspace.scores
                let top = scores[d.departmentIndex]
                let runner = d.runnerUpIndex.map { scores[$0] } ?? 0
                let margin = max(classifier.rules.margin, 1)
                let lead = (top - runner - classifier.rules.margin) / margin
                leads[lead < 1 ? "< 1" : lead < 2 ? "1-2" : ">= 2", default: 0] += 1
            }
        }
        self.reasons = Classifier.Reason.allCases.compactMap { r in reasons[r].map { (r, $0.right, $0.wrong, $0.wrongTriage) } }
        wrongDepartmentLeads = ["< 1", "1-2", ">= 2"].compactMap { k in leads[k].map { (k, $0) } }
        total = pairs.count
        accuracy = total == 0 ? 0 : Double(pairs.filter { $0.1 == $0.2 }.count) / Double(total)
        triageShare = total == 0 ? 0 : Double(pairs.filter { $0.2 == CityDirectory.triageCode }.count) / Double(total)
        var byLang: [String: (Int, Int)] = [:]
        var confusion: [String: [String: Int]] = [:]
        for (row, gold, predicted) in pairs {
            byLang[row.lang, default: (0, 0)].1 += 1
            if gold == predicted { byLang[row.lang, default: (0, 0)].0 += 1 }
            confusion[gold, default: [:]][predicted, default: 0] += 1
        }
        accuracyByLanguage = byLang.keys.sorted().map { lang in
            let (ok, n) = byLang[lang] ?? (0, 0)
            return (lang, n == 0 ? 0 : Double(ok) / Double(n), n)
        }
        let codes = CityDirectory.departments.map(\.code).filter { code in
            pairs.contains { $0.1 == code || $0.2 == code }
        }
        departments = codes.map { code in
            let tp = pairs.filter { $0.1 == code && $0.2 == code }.count
            let predicted = pairs.filter { $0.2 == code }.count
            let actual = pairs.filter { $0.1 == code }.count
            let p = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let r = actual == 0 ? 0 : Double(tp) / Double(actual)
            return DepartmentScore(department: code, precision: p, recall: r, f1: p + r == 0 ? 0 : 2 * p * r / (p + r),
                                   support: actual)
        }
        let scored = departments.filter { $0.support > 0 }
        macroF1 = scored.isEmpty ? 0 : scored.map(\.f1).reduce(0, +) / Double(scored.count)
        self.confusion = confusion
        misses = pairs.filter { $0.1 != $0.2 }.map { Miss(id: $0.0.id, lang: $0.0.lang, expected: $0.1, predicted: $0.2, text: $0.0.text) }
    }

    /// The report `chikaya rules eval` prints; `rows: false` leaves out the misrouted texts
    /// (for a held-out corpus that must be read only through its figures).
    public func report(rows: Bool = true) -> String {
        var out: [String] = []
        out.append("rows: \(total)   accuracy: \(JSONText.fixed3(accuracy))   macro-F1: \(JSONText.fixed3(macroF1))")
        out.append("")
        out.append("accuracy by language:")
        for l in accuracyByLanguage {
            out.append("  \(l.lang.padding(toLength: 12, withPad: " ", startingAt: 0)) \(JSONText.fixed3(l.accuracy))  (\(l.count) rows)")
        }
        out.append("")
        out.append("department              precision  recall  F1     support")
        for d in departments {
            out.append("  \(d.department.padding(toLength: 22, withPad: " ", startingAt: 0)) \(JSONText.fixed3(d.precision))      \(JSONText.fixed3(d.recall))   \(JSONText.fixed3(d.f1))  \(d.support)")
        }
        out.append("")
        let codes = departments.map(\.department)
        let short = codes.map { String($0.prefix(5)) }
        out.append("confusion (rows: expected, columns: predicted):")
        out.append("  " + "".padding(toLength: 22, withPad: " ", startingAt: 0) + short.map { $0.padding(toLength: 6, withPad: " ", startingAt: 0) }.joined())
        for gold in codes {
            let cells = codes.map { String(confusion[gold]?[$0] ?? 0).padding(toLength: 6, withPad: " ", startingAt: 0) }
            out.append("  \(gold.padding(toLength: 22, withPad: " ", startingAt: 0))\(cells.joined())")
        }
        out.append("")
        out.append("triage chosen for \(JSONText.fixed3(triageShare)) of rows")
        out.append("decisions by reason      right  wrong  (of which labelled triage)")
        for a in reasons {
            out.append("  \(a.reason.rawValue.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(a.right).padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(a.wrong).padding(toLength: 6, withPad: " ", startingAt: 0)) \(a.wrongTriage)")
        }
        if !wrongDepartmentLeads.isEmpty {
            out.append("outright wins that were wrong, by the winner's lead beyond the margin (in margins): "
                + wrongDepartmentLeads.map { "\($0.lead): \($0.count)" }.joined(separator: "  "))
        }
        out.append("")
        out.append("misrouted: \(misses.count)")
        for m in misses where rows {
            out.append("  \(m.id)  [\(m.lang)]  expected \(m.expected), got \(m.predicted): \(m.text)")
        }
        return out.joined(separator: "\n")
    }
}
