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

    /// Rows fetched per round trip: large enough that latency does not matter, small enough to
    /// keep memory flat whatever the number of complaints.
    static let pageSize = 5_000

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
            let cutoff = try BacktestStore.cutoff(scope, on: db)
            let total = try BacktestStore.count(scope, cutoff: cutoff, on: db)
            let progress = Progress(total: total)
            var before: Int64?
            var remaining = total
            while remaining > 0 {
                let page = try BacktestStore.page(cutoff: cutoff, beforeID: before, limit: min(pageSize, remaining), on: db)
                guard let oldest = page.last else { break }
                backtester.replay(page)
                before = oldest.id
                remaining -= page.count
                progress.update(backtester.report.examined)
            }
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
        let total: Int
        let enabled = isatty(2) == 1
        var lastDraw = Date.distantPast

        init(total: Int) { self.total = total }

        func update(_ done: Int) {
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

/// Keywords added, removed and changed per department between two rule sets. A keyword is the
/// same when its normalised form, department and kind (keyword or exclusion) are, so respelling
/// whitespace or moving lines is no change.
struct RulesDiff {
    /// One department's changes.
    struct Department {
        let code: String
        var added: [RuleKeyword] = []
        var removed: [RuleKeyword] = []
        var reweighted: [(RuleKeyword, RuleKeyword)] = []
    }

    let departments: [Department]

    init(from old: RuleSet, to new: RuleSet) {
        struct Key: Hashable {
            let department: String
            let canonical: String
            let exclusion: Bool
        }
        func index(_ rules: RuleSet) -> [Key: RuleKeyword] {
            var map: [Key: RuleKeyword] = [:]
            for k in rules.keywords {
                map[Key(department: k.department, canonical: k.canonical, exclusion: k.isExclusion)] = k
            }
            return map
        }
        let before = index(old), after = index(new)
        var byDepartment: [String: Department] = [:]
        for (key, k) in after where before[key] == nil {
            byDepartment[key.department, default: Department(code: key.department)].added.append(k)
        }
        for (key, k) in before {
            guard let now = after[key] else {
                byDepartment[key.department, default: Department(code: key.department)].removed.append(k)
                continue
            }
            if now.weight != k.weight || now.arrondissements != k.arrondissements {
                byDepartment[key.department, default: Department(code: key.department)].reweighted.append((k, now))
            }
        }
        let order = Dictionary(uniqueKeysWithValues: CityDirectory.departments.enumerated().map { ($1.code, $0) })
        departments = byDepartment.values.map { d in
            var d = d
            d.added.sort { $0.term < $1.term }
            d.removed.sort { $0.term < $1.term }
            d.reweighted.sort { $0.0.term < $1.0.term }
            return d
        }.sorted { (order[$0.code] ?? .max) < (order[$1.code] ?? .max) }
    }
}
