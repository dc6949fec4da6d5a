import ChikayaCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `chikaya rules backtest` and `chikaya rules diff`: what a draft rules file would change,
/// before it is published.
enum RulesBacktesting {
    static let usage = """
           chikaya rules backtest FILE [--since 30d | --last N] [--examples N]
           chikaya rules diff [VERSION] FILE
    """

    static let help = """
      backtest
              replay stored, routed complaints (default: submitted in the last 30 days) through
              the draft FILE without publishing it: how many would change department, a from -> to
              table, examples of each move with their explanation, and how many of the complaints
              staff reassigned by hand the draft now sends where staff put them
      diff    keywords added, removed or reweighted, department by department, from a published
              VERSION (default: the rules in force; a prefix is enough) to FILE
    """

    static func backtest(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "rules")
        let since = try arguments.option("--since")
        let last = try arguments.option("--last")
        let examples = try arguments.intOption("--examples", default: 2, range: 0...50)
        let file = try arguments.requiredPositional("the draft rules FILE")
        try arguments.finish()
        guard since == nil || last == nil else {
            throw CLIError.usage("rules backtest: give --since or --last, not both")
        }
        let scope: BacktestScope
        if let last {
            guard let n = Int(last), n >= 1 else {
                throw CLIError.usage("rules backtest: --last takes a positive whole number, not '\(last)'")
            }
            scope = .last(n)
        } else {
            scope = .since(seconds: try DurationArgument.seconds(since ?? "30d", option: "--since", command: "rules backtest"))
        }
        let rules = try RulesLoading.load(file)
        let db = try runtime.connect(role: "rules")
        let started = Date()
        var backtester = Backtester(classifier: Classifier(rules: rules), examplesPerMove: examples)
        let inForce: RulesPublication?
        do {
            inForce = try RulesStore.latest(on: db)
            let progress = Progress()
            try backtester.replay(scope, on: db) { done, total in progress.update(done, of: total) }
            progress.finish()
        } catch {
            throw CLIError.database(error)
        }
        let report = backtester.report
        let seconds = Date().timeIntervalSince(started)
        printReport(report, rules: rules, file: file, inForce: inForce, scope: scope, seconds: seconds)
        return 0
    }

    private static func printReport(_ report: BacktestReport, rules: RuleSet, file: String, inForce: RulesPublication?,
                                    scope: BacktestScope, seconds: Double) {
        let scopeText = switch scope {
        case .since(let s): "submitted in the last \(Duration.human(s))"
        case .last(let n): "the last \(n)"
        }
        print("backtest of \(file) (version \(rules.version)) against the rules in force (\(inForce?.version ?? "none published"))")
        print("complaints replayed: \(report.examined) routed complaints \(scopeText), in \(String(format: "%.1f", seconds))s")
        let share = report.examined > 0 ? 100 * Double(report.changed) / Double(report.examined) : 0
        print("would change department: \(report.changed) (\(String(format: "%.1f", share))%)")
        print("  of which \(report.previouslyRightNowMoved) were never corrected by hand (possible new errors)")
        print("manual reassignments: \(report.corrections); the draft now routes \(report.correctionsNowRight) of them where staff put them")
        guard !report.moves.isEmpty else { return }
        print("")
        var table = TextTable(["FROM", "TO", "COMPLAINTS"], rightAligned: [2])
        for (move, count) in report.rankedMoves { table.add([move.from, move.to, String(count)]) }
        print(table.render())
        let classifier = Classifier(rules: rules)
        for (move, count) in report.rankedMoves {
            guard let examples = report.examples[move], !examples.isEmpty else { continue }
            print("")
            print("\(move.from) -> \(move.to) (\(count)):")
            for example in examples {
                print("  \(example.reference)")
                let explanation = classifier.classify(example.body, arrondissement: example.arrondissement).explanation()
                for line in explanation.split(separator: "\n") { print("    \(line)") }
            }
        }
    }

    /// "backtest: 45000/100000 complaints" rewritten in place on stderr, only when stderr is a
    /// terminal, at most ten times a second.
    private final class Progress {
        let enabled = isatty(2) == 1
        var lastDraw = Date.distantPast

        func update(_ done: Int, of total: Int) {
            guard enabled, Date().timeIntervalSince(lastDraw) >= 0.1 || done == total else { return }
            lastDraw = Date()
            var stderr = StandardError()
            print("\rbacktest: \(done)/\(total) complaints", terminator: "", to: &stderr)
        }

        func finish() {
            guard enabled else { return }
            var stderr = StandardError()
            print("\r\u{1B}[K", terminator: "", to: &stderr)
        }
    }

    static func diff(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "rules")
        let first = try arguments.requiredPositional("the rules FILE")
        let second = arguments.positional()
        try arguments.finish()
        let version = second == nil ? nil : first
        let file = second ?? first
        let draft = try RulesLoading.load(file)
        let db = try runtime.connect(role: "rules")
        let publication: RulesPublication?
        do {
            if let version {
                publication = try RulesStore.find(version: version, on: db)
            } else {
                publication = try RulesStore.latest(on: db)
            }
        } catch {
            throw CLIError.database(error)
        }
        guard let publication, let source = publication.source else {
            throw CLIError.dataError(version.map { "rules diff: no publication has version \($0); see 'chikaya rules history'" }
                ?? "rules diff: no rules are published yet; compare after 'chikaya rules publish'")
        }
        let published: RuleSet
        do {
            published = try RuleSet.parse(source: source, fileName: publication.fileName)
        } catch {
            throw CLIError.dataError("rules diff: the published version \(publication.version) no longer parses: \(error.description)")
        }
        print("rules diff: \(publication.version) (published) -> \(draft.version) (\(file))")
        let changes = RulesDiff(from: published, to: draft)
        if published.threshold != draft.threshold {
            print("threshold: \(ComplaintReport.format(published.threshold)) -> \(ComplaintReport.format(draft.threshold))")
        }
        if published.margin != draft.margin {
            print("margin: \(ComplaintReport.format(published.margin)) -> \(ComplaintReport.format(draft.margin))")
        }
        if changes.departments.isEmpty {
            print("no keyword changes")
            return 0
        }
        for department in changes.departments {
            print("")
            print("\(department.code): +\(department.added.count) -\(department.removed.count) ~\(department.reweighted.count)")
            for k in department.added { print("  + \(describe(k))") }
            for k in department.removed { print("  - \(describe(k))") }
            for (old, new) in department.reweighted {
                print("  ~ \(describe(old)) -> \(new.isExclusion ? "exclude" : ComplaintReport.format(new.weight))\(areas(new))")
            }
        }
        return 0
    }

    private static func describe(_ k: RuleKeyword) -> String {
        "'\(k.term)' \(k.isExclusion ? "exclude" : ComplaintReport.format(k.weight))\(areas(k))"
    }

    private static func areas(_ k: RuleKeyword) -> String {
        k.arrondissements.isEmpty ? "" : " @" + k.arrondissements.joined(separator: ",")
    }
}
