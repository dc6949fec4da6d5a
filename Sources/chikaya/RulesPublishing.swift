import ChikayaCore
import Foundation

/// The `chikaya rules` sub-commands that use the database: publish, history, rollback.
enum RulesPublishing {
    static let usage = """
           chikaya rules publish [FILE] [--note TEXT]
           chikaya rules history [--limit N]
           chikaya rules rollback VERSION
    """

    static let help = """
      publish validate FILE (default: rules_file of the configuration) and make it the rules
              in force; running workers switch to it between batches
      history list publications, newest first; * marks the rules in force
      rollback
              publish again an earlier version (a prefix of the version is enough)
              (publish and rollback record the database login as the author)
    """

    static func publish(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "rules")
        try arguments.refuseActor()
        let note = try arguments.option("--note")
        let file = arguments.positional() ?? runtime.configuration.rulesFile
        try arguments.finish()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError.noInput("cannot read \(file)")
        }
        let source: String
        do { source = try TextFile.decodeStrictly(data, fileName: file) } catch {
            throw CLIError.dataError("\(error.description)\nnothing was published")
        }
        let rules: RuleSet
        do {
            // The worker's own check: what it would refuse is not published.
            rules = try RulesAdmission.ruleSet(source: source, fileName: file)
        } catch {
            throw CLIError.dataError("\(error.description)\nnothing was published")
        }
        rules.warnings.forEach { var e = StandardError(); print($0.description, to: &e) }
        let db = try runtime.connect(role: "rules")
        let outcome: RulesPublisher.Outcome
        do {
            outcome = try RulesPublisher.publish(rules, source: source, fileName: file, note: note, on: db)
        } catch {
            throw CLIError.database(error)
        }
        switch outcome {
        case .alreadyInForce(let version): print("rules \(version) are already in force; nothing published")
        case .published(let id, let version): print("published rules \(version) from \(file) (publication \(id))")
        }
        return 0
    }

    static func history(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "rules")
        let limit = try arguments.intOption("--limit", default: 20, range: 1...10_000)
        try arguments.finish()
        let db = try runtime.connect(role: "rules")
        let publications: [RulesPublication]
        do { publications = try RulesStore.history(on: db, limit: limit) } catch { throw CLIError.database(error) }
        if publications.isEmpty { print("no rules published yet; run: chikaya rules publish FILE") }
        for (index, publication) in publications.enumerated() {
            let marker = index == 0 ? "*" : " "
            TextOutput.show("\(marker) \(publication.version)  \(publication.publishedAt.formatted(.iso8601))  \(publication.author)  \(publication.fileName)\(publication.note.map { "  — \($0)" } ?? "")")
        }
        return 0
    }

    static func rollback(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "rules")
        try arguments.refuseActor()
        let version = try arguments.requiredPositional("VERSION")
        try arguments.finish()
        let db = try runtime.connect(role: "rules")
        do {
            switch try RulesPublisher.rollback(to: version, on: db) {
            case .alreadyInForce(let version): print("rules \(version) are already in force")
            case .published(_, let version): print("rules \(version) are in force again")
            }
        } catch RulesPublisher.RollbackError.ambiguous(let prefix, let versions) {
            throw CLIError.dataError("rules rollback: '\(prefix)' names several versions (\(versions.joined(separator: ", "))); give more of it")
        } catch RulesPublisher.RollbackError.unknown(let version) {
            throw CLIError.dataError("rules rollback: no publication has version \(version); see 'chikaya rules history'")
        } catch let error as PostgresError {
            throw CLIError.database(error)
        }
        return 0
    }
}
