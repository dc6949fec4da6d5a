import Foundation
import Routing

/// `chikaya rules SUBCOMMAND`: work on the routing-rules file. One case per sub-command, so that
/// the database-backed ones (publish, history, backtest, rollback, diff) slot in beside these.
enum RulesCommand: Command {
    static let name = "rules"
    static let summary = "check, measure, backtest, diff, publish and roll back the routing rules"
    static let usage = """
    usage: chikaya rules check [FILE]
           chikaya rules eval [--rules FILE] [--summary] CORPUS.tsv
    \(RulesPublishing.usage)
    \(RulesBacktesting.usage)
    \(RulesSuggesting.usage)

      check   validate a rules file (default \(RulesLoading.defaultPath)); prints every error
              as file:line:column and exits 65 when there is one
      eval    classify a labelled corpus (id lang arrondissement department text) and print
              accuracy overall and per language, precision/recall/F1 per department,
              macro-F1, the confusion matrix, why triage was chosen, and the misrouted
              rows (--summary: the figures only, for a held-out corpus)
    \(RulesPublishing.help)
    \(RulesBacktesting.help)
    \(RulesSuggesting.help)

    options of publish, history, rollback, backtest, diff and suggest:
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        guard let sub = arguments.positional() else {
            throw CLIError.usage("rules: missing sub-command (check, eval, publish, history, rollback, backtest, diff, suggest); see 'chikaya help rules'")
        }
        switch sub {
        case "check":
            return try check(&arguments)
        case "eval":
            return try eval(&arguments)
        case "publish":
            return try RulesPublishing.publish(&arguments)
        case "history":
            return try RulesPublishing.history(&arguments)
        case "rollback":
            return try RulesPublishing.rollback(&arguments)
        case "backtest":
            return try RulesBacktesting.backtest(&arguments)
        case "diff":
            return try RulesBacktesting.diff(&arguments)
        case "suggest":
            return try RulesSuggesting.suggest(&arguments)
        default:
            throw CLIError.usage("rules: unknown sub-command '\(sub)'; see 'chikaya help rules'")
        }
    }

    private static func check(_ arguments: inout Arguments) throws(CLIError) -> Int32 {
        let path = arguments.positional() ?? RulesLoading.defaultPath
        try arguments.finish()
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .noInput("cannot read the rules file '\(path)'")
        }
        do {
            let rules = try RuleSet.load(path: path)
            var stderr = StandardError()
            for warning in rules.warnings { print(warning, to: &stderr) }
            print("\(path): ok, \(rules.termCount) terms, \(rules.warnings.count) warnings, version \(rules.version)")
            return 0
        } catch {
            var stderr = StandardError()
            print(error.description, to: &stderr)
            let count = error.diagnostics.filter { !$0.isWarning }.count
            print("\(path): \(count) error\(count == 1 ? "" : "s")", to: &stderr)
            return 65
        }
    }

    private static func eval(_ arguments: inout Arguments) throws(CLIError) -> Int32 {
        let rulesPath = try arguments.option("--rules")
        let summary = arguments.flag("--summary")
        let corpusPath = try arguments.requiredPositional("the labelled corpus CORPUS.tsv")
        try arguments.finish()
        let rules = try RulesLoading.load(rulesPath)
        let source: String
        do {
            source = try String(contentsOfFile: corpusPath, encoding: .utf8)
        } catch {
            throw .noInput("cannot read '\(corpusPath)': \(error.localizedDescription)")
        }
        let corpus: LabelledCorpus
        do {
            corpus = try LabelledCorpus.parse(source, fileName: corpusPath)
        } catch {
            throw .dataError(error.description)
        }
        print("rules \(rules.fileName) version \(rules.version)")
        print(Evaluation(corpus: corpus, classifier: Classifier(rules: rules)).report(rows: !summary))
        return 0
    }
}
