import Foundation
import Postgres
import Routing

/// The one check a rules text must pass to route complaints, shared by `chikaya rules publish`
/// (before storing it) and the worker (before switching to a publication), so that nothing is
/// published that the worker would refuse.
public enum RulesAdmission {
    /// The rules of `source`, or the reasons they cannot route: the text does not parse, or a
    /// publication's recorded version is not the text's own (decisions record the version, so it
    /// must name exactly the rules that made them).
    public static func ruleSet(source: String, fileName: String, publishedVersion: String? = nil) throws(RulesFileError) -> RuleSet {
        let rules = try RuleSet.parse(source: source, fileName: fileName)
        if let publishedVersion, publishedVersion != rules.version {
            throw RulesFileError(diagnostics: [RulesDiagnostic(
                file: fileName, line: 0, column: 0,
                message: "the publication says version \(publishedVersion) but its text is version \(rules.version)",
                isWarning: false)])
        }
        return rules
    }
}

/// What `chikaya queue status` says about the rules: the latest publication, whether the
/// workers can load it (the same check they run), and the version of the latest decision.
public struct RulesState: Sendable {
    public let latest: RulesPublication?
    /// Why the latest publication cannot be loaded; nil when it can.
    public let refusal: String?
    public let lastDecisionVersion: String?

    public static func load(on db: PostgresConnection) throws(PostgresError) -> RulesState {
        let latest = try RulesStore.latest(on: db)
        var refusal: String?
        if let latest {
            do {
                _ = try RulesAdmission.ruleSet(source: latest.source ?? "", fileName: latest.fileName,
                                               publishedVersion: latest.version)
            } catch {
                refusal = error.description
            }
        }
        return RulesState(latest: latest, refusal: refusal, lastDecisionVersion: try RulesStore.lastDecisionVersion(on: db))
    }
}
