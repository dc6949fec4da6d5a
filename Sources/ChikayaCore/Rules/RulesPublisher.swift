import Postgres
import Routing

/// `chikaya rules publish` and `rules rollback`: what makes a rules text the one in force. A
/// publication is a new row of `rules_publications` (`RulesStore`); running workers switch to
/// it between batches. Publishing the version already in force adds nothing.
public enum RulesPublisher {
    /// What a publish or a rollback did.
    public enum Outcome: Sendable, Equatable {
        /// A new publication, now in force.
        case published(id: Int64, version: String)
        /// That version was in force already; nothing was written.
        case alreadyInForce(version: String)
    }

    /// Why a rollback could not choose a publication.
    public enum RollbackError: Error, Sendable, Equatable {
        /// The prefix names several published versions.
        case ambiguous(prefix: String, versions: [String])
        /// No publication has that version.
        case unknown(version: String)
    }

    /// Makes `rules` (parsed from `source`, read from `fileName`) the rules in force, unless they
    /// already are. The database records the login as the author.
    public static func publish(_ rules: RuleSet, source: String, fileName: String, note: String?,
                               on db: PostgresConnection) throws(PostgresError) -> Outcome {
        if let latest = try RulesStore.latest(on: db), latest.version == rules.version {
            return .alreadyInForce(version: rules.version)
        }
        let id = try RulesStore.publish(source: source, version: rules.version, fileName: fileName, note: note, on: db)
        return .published(id: id, version: rules.version)
    }

    /// Publishes again the earlier version that `version` names (all of it or a prefix), with a
    /// note saying it is a rollback.
    public static func rollback(to version: String, on db: PostgresConnection) throws -> Outcome {
        let candidates = try RulesStore.versions(matching: version, on: db)
        if candidates.count > 1 { throw RollbackError.ambiguous(prefix: version, versions: candidates) }
        guard let earlier = try RulesStore.find(version: version, on: db), let source = earlier.source else {
            throw RollbackError.unknown(version: version)
        }
        if let latest = try RulesStore.latest(on: db), latest.version == earlier.version {
            return .alreadyInForce(version: earlier.version)
        }
        let id = try RulesStore.publish(source: source, version: earlier.version, fileName: earlier.fileName,
                                        note: "rollback to \(earlier.version)", on: db)
        return .published(id: id, version: earlier.version)
    }
}
