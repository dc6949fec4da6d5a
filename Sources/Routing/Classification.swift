/// The decision for one complaint, with everything needed to audit or explain it.
public struct Classification: Sendable {
    /// A CityDirectory department code; "triage" when the rules abstain.
    public let department: String
    /// 0...1: how clearly the winner won (0 when abstaining).
    public let confidence: Double
    public let runnerUp: String?
    /// Every rule hit, counted or not (see `RuleMatch.status`).
    public let matches: [RuleMatch]
    /// The score of every department (departments without hits have 0).
    public let scores: [String: Double]
    /// The text as the matcher saw it, tokens separated by spaces.
    public let normalizedText: String
    public let threshold: Double
    public let margin: Double
    public let rulesVersion: String
    /// Why this department: an outright win, a close call won by the department named first,
    /// or why the rules abstained.
    public var reason: Classifier.Reason = .routed

    /// The matches as a compact JSON array, for the decision audit in the database
    /// (`DecisionMatch` is its contract).
    public var matchesJSON: String { DecisionMatch.json(matches) }

    /// What `chikaya classify --explain` prints: normalised text, matches, scores, and why.
    public func explanation() -> String {
        var lines: [String] = []
        lines.append("normalised: \(normalizedText)")
        lines.append("rules version: \(rulesVersion)")
        if matches.isEmpty {
            lines.append("matches: none")
        } else {
            lines.append("matches:")
            for m in matches {
                var line = "  \(m.department)  +\(JSONText.number(m.weight))  '\(m.term)'  (\(m.file):\(m.line))  text '\(m.text)'"
                switch m.status {
                case .counted: break
                case .repeated: line += "  [already counted]"
                case .excluded(let by): line += "  [cancelled by the exclusion at line \(by)]"
                case .outsideArrondissement: line += "  [not for this arrondissement]"
                case .nearLandmark(let factor, let by): line += "  [names a place after the landmark at line \(by): counts \(JSONText.number(factor))x]"
                }
                lines.append(line)
            }
        }
        lines.append("scores:")
        for (code, score) in scores.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
            lines.append("  \(code.padding(toLength: 22, withPad: " ", startingAt: 0)) \(JSONText.number(score))")
        }
        let ranked = scores.filter { $0.key != CityDirectory.triageCode }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
        let best = ranked.first { $0.key != department }?.value ?? 0
        let top = ranked.first
        if reason == .namedFirst {
            let own = scores[department] ?? 0
            lines.append("decision: \(department): no department leads by the margin \(JSONText.number(margin)); \(department) (\(JSONText.number(own))) is named first in the text, before \(runnerUp ?? "the runner-up") (\(JSONText.number(scores[runnerUp ?? ""] ?? 0))); confidence \(JSONText.number(confidence))")
        } else if department != CityDirectory.triageCode {
            let own = scores[department] ?? 0
            lines.append("decision: \(department): score \(JSONText.number(own)) reaches the threshold \(JSONText.number(threshold)) and beats \(runnerUp ?? "every other department") (\(JSONText.number(best))) by at least the margin \(JSONText.number(margin)); confidence \(JSONText.number(confidence))")
        } else if let top, top.value > 0 {
            let second = ranked.dropFirst().first
            if let triage = scores[CityDirectory.triageCode], triage >= top.value {
                lines.append("decision: triage: the triage keywords (\(JSONText.number(triage))) outweigh every department")
            } else if top.value < threshold {
                lines.append("decision: triage: the best score, \(top.key) \(JSONText.number(top.value)), is below the threshold \(JSONText.number(threshold))")
            } else {
                lines.append("decision: triage: \(top.key) (\(JSONText.number(top.value))) does not beat \(second?.key ?? "the runner-up") (\(JSONText.number(second?.value ?? 0))) by the margin \(JSONText.number(margin))")
            }
        } else {
            lines.append("decision: triage: no keyword matched")
        }
        return lines.joined(separator: "\n")
    }
}

/// One rule that matched a stretch of the complaint.
public struct RuleMatch: Sendable, Equatable {
    /// Whether a hit added to its department's score, and if not, why.
    public enum Status: Sendable, Equatable {
        case counted
        /// The same rule already matched earlier in the text: one word repeated does not add up.
        case repeated
        /// An exclusion phrase of the same department (at this line) covered it.
        case excluded(byLine: Int)
        /// The rule is restricted to other arrondissements.
        case outsideArrondissement
        /// Counted at `factor` of its weight: it follows a landmark phrase (at this line), so it
        /// names a place rather than the problem.
        case nearLandmark(factor: Double, byLine: Int)

        /// The spelling recorded in the decision audit (`DecisionMatch.status`).
        public var code: String {
            switch self {
            case .counted: "counted"
            case .repeated: "repeated"
            case .excluded: "excluded"
            case .outsideArrondissement: "outside-arrondissement"
            case .nearLandmark: "near-landmark"
            }
        }
    }

    /// The keyword as written in the rules file.
    public let term: String
    public let department: String
    public let weight: Double
    public let file: String
    public let line: Int
    /// Byte offsets of the match in the original text's UTF-8.
    public let utf8Range: Range<Int>
    /// The original text at those offsets.
    public let text: String
    public let status: Status
}
