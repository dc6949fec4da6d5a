/// Routes complaint text to a department with a compiled rule set.
///
/// `classify` builds the full, explainable `Classification`; `decide` is the allocation-free path
/// for batches, reusing a `Workspace` the caller keeps (one per thread).
public struct Classifier: Sendable {
    public let rules: RuleSet
    private let triageIndex: Int

    /// How many tokens after a landmark phrase its factor reaches ("pres de | la station du tram").
    static let landmarkReach: Int32 = 4

    public init(rules: RuleSet) {
        self.rules = rules
        self.triageIndex = CityDirectory.departments.firstIndex { $0.code == CityDirectory.triageCode } ?? 0
    }

    /// Buffers reused between texts; keep one per thread.
    public struct Workspace {
        var scratch: Matcher.Scratch
        var scores: [Double] = Array(repeating: 0, count: CityDirectory.departments.count)
        var counted: [Int32] = []
        var status: [UInt8] = []  // per hit: 0 counted, 1 repeated, 2 excluded, 3 outside, 4 an exclusion
        var excludedBy: [Int32] = []
        var added: [Double] = []  // per hit: what it added to its department's score
        /// Per department: the first token of its first counted keyword (Int32.max when none).
        var firstToken: [Int32] = Array(repeating: Int32.max, count: CityDirectory.departments.count)
        public init() { scratch = Matcher.Scratch() }
        /// `tokenCache` entries (`TokenPatternCache`): 0 for a workspace used for one text.
        init(tokenCache: Int) { scratch = Matcher.Scratch(cacheCapacity: tokenCache) }
    }

    /// The department index (into `CityDirectory.departments`) and confidence of one decision.
    public struct Decision: Sendable, Equatable {
        public let departmentIndex: Int
        public let confidence: Double
        public let runnerUpIndex: Int?
        /// Why the rules chose this department (or abstained).
        public var reason: Reason = .routed
        public var department: String { CityDirectory.departments[departmentIndex].code }
    }

    /// What led to a decision: a department won outright or on a close call, or one of the ways
    /// the rules abstain.
    public enum Reason: String, Sendable, Equatable, CaseIterable {
        case routed
        /// No department led by the margin; with `ties = first` the one named first won.
        case namedFirst = "named-first"
        /// No department keyword at all in the text.
        case noKeyword = "no-keyword"
        /// The best department scored below the threshold.
        case belowThreshold = "below-threshold"
        /// The best department did not beat the runner-up by the margin (`ties = triage`).
        case tooClose = "too-close"
        /// The triage keywords weigh at least as much as the best department.
        case triageKeywords = "triage-keywords"
    }

    public func classify(_ text: String, arrondissement: String?) -> Classification {
        var workspace = Workspace(tokenCache: 0)
        var copy = text
        let decision = copy.withUTF8 { decide(utf8: $0, arrondissement: arrondissement, workspace: &workspace) }
        let utf8 = Array(text.utf8)
        var matches: [RuleMatch] = []
        forEachMatch(in: workspace) { rule, range, status in
            matches.append(RuleMatch(term: rule.term, department: CityDirectory.departments[rule.department].code,
                                     weight: rule.weight, file: rules.fileName, line: rule.line,
                                     utf8Range: range, text: String(decoding: utf8[range], as: UTF8.self),
                                     status: status))
        }
        var scores: [String: Double] = [:]
        for (i, d) in CityDirectory.departments.enumerated() where i != triageIndex || workspace.scores[i] > 0 {
            scores[d.code] = workspace.scores[i]
        }
        return Classification(department: decision.department, confidence: decision.confidence,
                              runnerUp: decision.runnerUpIndex.map { CityDirectory.departments[$0].code },
                              matches: matches, scores: scores,
                              normalizedText: workspace.scratch.tokenizer.normalizedText,
                              threshold: rules.threshold, margin: rules.margin, rulesVersion: rules.version,
                              reason: decision.reason)
    }

    /// What the routing worker keeps of one complaint.
    public struct Record: Sendable {
        public let decision: Decision
        /// The hits as `routing_decisions.matches` records them: `Classification.matchesJSON`.
        public let matchesJSON: String
        /// `TextSimilarity.keys(of:)` of the text, for the duplicate lookup.
        public let textKeys: [Int32]
    }

    /// The decision, the matches' JSON and the duplicate keys of `text`, from one pass of the
    /// matcher, through `workspace`'s token cache, and without the explanation's strings:
    /// `classify` plus `TextSimilarity.keys` were nearly half of the routing worker's CPU (perf,
    /// city drain); with this the worker took 1.9 s of CPU for 50,000 complaints instead of 2.7.
    /// The same values as those two, which a test holds it to.
    public func record(_ text: String, arrondissement: String?, workspace: inout Workspace) -> Record {
        var copy = text
        return copy.withUTF8 { utf8 in
            let decision = decide(utf8: utf8, arrondissement: arrondissement, workspace: &workspace)
            var json: [UInt8] = []
            json.reserveCapacity(32 + workspace.scratch.hits.count * 64)
            DecisionMatch.appendOpening(file: rules.fileName, to: &json)
            let opening = json.count
            forEachMatch(in: workspace) { rule, range, status in
                DecisionMatch.appendHit(first: json.count == opening, term: rule.term,
                                        department: CityDirectory.departments[rule.department].code,
                                        weight: rule.weight, line: rule.line, range: range, status: status.code, to: &json)
            }
            if json.count == opening {
                json = Array("[]".utf8)
            } else {
                DecisionMatch.appendClosing(to: &json)
            }
            return Record(decision: decision, matchesJSON: String(decoding: json, as: UTF8.self),
                          textKeys: TextSimilarity.keys(of: workspace.scratch.tokenizer))
        }
    }

    /// Each hit of the text `workspace` last decided that a reader is shown, with its byte range
    /// in the text and its status; exclusions and landmark phrases, which only act on the
    /// others, are left out.
    private func forEachMatch(in workspace: Workspace, _ body: (Rule, Range<Int>, RuleMatch.Status) -> Void) {
        let tokens = workspace.scratch.tokenizer.tokens
        for (k, hit) in workspace.scratch.hits.enumerated() {
            let rule = rules.rules[Int(hit.rule)]
            if rule.isExclusion || rule.isLandmark { continue }
            let start = Int(tokens[Int(hit.first)].utf8Start), end = Int(tokens[Int(hit.end) - 1].utf8End)
            let status: RuleMatch.Status = switch workspace.status[k] {
            case 0: .counted
            case 1: .repeated
            case 2: .excluded(byLine: rules.rules[Int(workspace.excludedBy[k])].line)
            case 5: .nearLandmark(factor: rules.rules[Int(workspace.excludedBy[k])].weight,
                                  byLine: rules.rules[Int(workspace.excludedBy[k])].line)
            default: .outsideArrondissement
            }
            body(rule, start..<end, status)
        }
    }

    /// Classifies UTF-8 text without building the explanation.
    public func decide(utf8: UnsafeBufferPointer<UInt8>, arrondissement: String?, workspace: inout Workspace) -> Decision {
        decide(utf8: utf8, arrondissementBit: CityDirectory.arrondissementBit(arrondissement), workspace: &workspace)
    }

    /// As `decide(utf8:arrondissement:workspace:)` with the arrondissement as a bit of
    /// `CityDirectory.arrondissementBit`, for batches.
    public func decide(utf8: UnsafeBufferPointer<UInt8>, arrondissementBit: UInt32, workspace: inout Workspace) -> Decision {
        decide(utf8: utf8, arrondissementBit: arrondissementBit, workspace: &workspace, trial: nil)
    }

    /// Candidate keywords under measurement (`RuleSuggester`): the rules from `firstCandidate` on
    /// are candidates compiled once with the rules in force; only those in `weights` count, at
    /// the weight given there, so that each trial is a lookup instead of a new parse.
    struct Trial {
        let firstCandidate: Int32
        var weights: [Int32: Double]
    }

    /// As `decide(utf8:arrondissementBit:workspace:)`, with the candidates of `trial` left out
    /// or reweighted.
    func decide(utf8: UnsafeBufferPointer<UInt8>, arrondissementBit: UInt32, workspace: inout Workspace,
                trial: Trial?) -> Decision {
        rules.matcher.match(utf8: utf8, scratch: &workspace.scratch)
        var hits = workspace.scratch.hits
        let firstCandidate = trial?.firstCandidate ?? Int32.max
        if let trial {
            hits.removeAll { $0.rule >= trial.firstCandidate && trial.weights[$0.rule] == nil }
        }
        let all = rules.facts
        func weight(_ rule: Int32) -> Double {
            rule < firstCandidate ? all[Int(rule)].weight : trial?.weights[rule] ?? 0
        }
        for i in workspace.scores.indices {
            workspace.scores[i] = 0
            workspace.firstToken[i] = Int32.max
        }
        workspace.status.removeAll(keepingCapacity: true)
        workspace.excludedBy.removeAll(keepingCapacity: true)
        workspace.added.removeAll(keepingCapacity: true)
        workspace.counted.removeAll(keepingCapacity: true)
        for hit in hits {
            let rule = all[Int(hit.rule)]
            var status: UInt8 = 0
            var by: Int32 = -1
            var added = 0.0
            if rule.isExclusion || rule.isLandmark {
                status = 4
            } else if rule.arrondissementMask != 0 && rule.arrondissementMask & arrondissementBit == 0 {
                status = 3
            } else {
                // An exclusion phrase of the same department overlapping the hit cancels it.
                for other in hits where all[Int(other.rule)].isExclusion && all[Int(other.rule)].department == rule.department
                    && other.first < hit.end && hit.first < other.end {
                    status = 2
                    by = other.rule
                    break
                }
                if status == 0 {
                    // Two spellings of one word (بناء, البناء; assaini*, assainissement) on the same
                    // tokens count once, at the heavier weight.
                    var sameWords = false
                    for j in 0..<workspace.status.count where (workspace.status[j] == 0 || workspace.status[j] == 5)
                        && hits[j].first == hit.first && hits[j].end == hit.end && all[Int(hits[j].rule)].department == rule.department {
                        if weight(hit.rule) > weight(hits[j].rule) && !workspace.counted.contains(hit.rule) {
                            workspace.scores[rule.department] -= workspace.added[j]
                            workspace.added[j] = 0
                            workspace.status[j] = 1
                            workspace.counted.removeAll { $0 == hits[j].rule }
                        } else {
                            sameWords = true
                        }
                        break
                    }
                    if sameWords || workspace.counted.contains(hit.rule) {
                        status = 1
                    } else {
                        workspace.counted.append(hit.rule)
                        // Just after a landmark phrase ("pres de", "قرب"), the keyword names where
                        // the problem is, not what it is: it counts its landmark factor.
                        var factor = 1.0
                        if rules.hasLandmarks {
                            for other in hits where all[Int(other.rule)].isLandmark && other.end <= hit.first
                                && hit.first - other.end < Classifier.landmarkReach && all[Int(other.rule)].weight < factor {
                                factor = all[Int(other.rule)].weight
                                by = other.rule
                            }
                        }
                        workspace.scores[rule.department] += weight(hit.rule) * factor
                        added = weight(hit.rule) * factor
                        if factor < 1 {
                            status = 5
                        } else {
                            workspace.firstToken[rule.department] = min(workspace.firstToken[rule.department], hit.first)
                        }
                    }
                }
            }
            workspace.status.append(status)
            workspace.excludedBy.append(by)
            workspace.added.append(added)
        }
        var best = -1, second = -1
        for (i, s) in workspace.scores.enumerated() where s > 0 && i != triageIndex {
            if best < 0 || s > workspace.scores[best] {
                second = best
                best = i
            } else if second < 0 || s > workspace.scores[second] {
                second = i
            }
        }
        guard best >= 0 else {
            let reason: Reason = workspace.scores[triageIndex] > 0 ? .triageKeywords : .noKeyword
            return Decision(departmentIndex: triageIndex, confidence: 0, runnerUpIndex: nil, reason: reason)
        }
        let top = workspace.scores[best]
        let runner = second >= 0 ? workspace.scores[second] : 0
        let runnerIndex: Int? = second >= 0 ? second : nil
        // Triage keywords (taxes, thanks, spam) win when they weigh as much as the best department.
        let triage = workspace.scores[triageIndex]
        guard top >= rules.threshold, triage < top else {
            let reason: Reason = triage >= top ? .triageKeywords : .belowThreshold
            return Decision(departmentIndex: triageIndex, confidence: 0, runnerUpIndex: best, reason: reason)
        }
        let strength = rules.threshold > 0 ? min(1, top / (2 * rules.threshold)) : 1
        guard top - runner < rules.margin else {
            return Decision(departmentIndex: best, confidence: strength * top / (top + runner), runnerUpIndex: runnerIndex)
        }
        guard rules.ties == .first else {
            return Decision(departmentIndex: triageIndex, confidence: 0, runnerUpIndex: best, reason: .tooClose)
        }
        // A close call: the departments within the margin of the top are all plausible; the one
        // the citizen names first is most often the subject, the others the place or the
        // consequence ("le lampadaire près de l'arrêt de bus", "الحفرة عامرة بالما").
        var winner = best
        for (i, s) in workspace.scores.enumerated() where i != triageIndex && s > 0 && top - s < rules.margin
            && workspace.firstToken[i] < workspace.firstToken[winner] {
            winner = i
        }
        let other: Int? = winner == best ? runnerIndex : best
        let otherScore = other.map { workspace.scores[$0] } ?? 0
        let own = workspace.scores[winner]
        // Half the confidence of an outright win: a close call is worth a second look.
        return Decision(departmentIndex: winner, confidence: 0.5 * strength * own / (own + otherScore),
                        runnerUpIndex: other, reason: .namedFirst)
    }
}
