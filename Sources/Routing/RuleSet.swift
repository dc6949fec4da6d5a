import Foundation

/// A parsed, validated and compiled routing-rules file: what the classifier runs on.
///
/// `version` is a hash of the normalised content, so that editing whitespace, comments or the order
/// of lines keeps it, and every decision can record which rules made it.
public struct RuleSet: Sendable {
    public let version: String
    public let warnings: [RulesDiagnostic]
    /// The file name the rules were read from, as diagnostics and matches print it.
    public let fileName: String
    /// A score must reach this to route a complaint anywhere.
    public let threshold: Double
    /// The winner must beat the runner-up by at least this much.
    public let margin: Double
    /// What happens when no department leads by the margin.
    public let ties: TieRule
    /// How many keyword and exclusion terms the file defines.
    public var termCount: Int { rules.count }

    let rules: [Rule]
    /// What scoring reads of each rule, without the Strings and arrays of `Rule`: copying a
    /// `Rule` per hit retained and released them.
    let facts: [RuleFacts]
    let matcher: Matcher
    /// Whether the file has a `[landmarks]` section (the classifier skips the search otherwise).
    let hasLandmarks: Bool

    /// The `ties` setting: a close call goes to triage (the default, as before the setting
    /// existed) or to the department named first in the complaint.
    public enum TieRule: String, Sendable {
        case triage
        case first
    }

    init(fileName: String, threshold: Double, margin: Double, ties: TieRule = .triage, rules: [Rule],
         patterns: [WordPattern], warnings: [RulesDiagnostic]) {
        self.fileName = fileName
        self.threshold = threshold
        self.margin = margin
        self.ties = ties
        self.rules = rules
        self.facts = rules.map {
            RuleFacts(department: $0.department, weight: $0.weight, arrondissementMask: $0.arrondissementMask,
                      isExclusion: $0.isExclusion, isLandmark: $0.isLandmark)
        }
        self.warnings = warnings
        self.matcher = Matcher(patterns: patterns, rules: rules)
        self.hasLandmarks = rules.contains { $0.isLandmark }
        var lines = rules.map { rule -> String in
            let area = rule.arrondissementMask == 0 ? "" : " @\(rule.arrondissementMask)"
            if rule.isLandmark { return "landmarks \(rule.weight): \(rule.canonical)" }
            return "\(CityDirectory.departments[rule.department].code) \(rule.isExclusion ? "exclude" : "\(rule.weight)")\(area): \(rule.canonical)"
        }
        lines.sort()
        // The default tie rule adds nothing, so files written before the setting keep their version.
        let tieLine = ties == .triage ? "" : "ties=\(ties.rawValue)\n"
        let canonical = "threshold=\(threshold)\nmargin=\(margin)\n" + tieLine + lines.joined(separator: "\n")
        self.version = ContentHash.hex(of: canonical)
    }

    public static func parse(source: String, fileName: String) throws(RulesFileError) -> RuleSet {
        var parser = RulesParser(fileName: fileName)
        return try parser.parse(source)
    }

    public static func load(path: String) throws(RulesFileError) -> RuleSet {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw RulesFileError(diagnostics: [RulesDiagnostic(
                file: path, line: 0, column: 0, message: "cannot read the rules file: \(error.localizedDescription)",
                isWarning: false)])
        }
        let source: String
        do {
            source = try TextFile.decodeStrictly(data, fileName: path)
        } catch {
            throw RulesFileError(diagnostics: error.problems.map {
                RulesDiagnostic(file: path, line: $0.line, column: 0, message: $0.message, isWarning: false)
            })
        }
        return try parse(source: source, fileName: path)
    }
}
