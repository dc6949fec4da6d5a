import ChikayaCore
import Routing
import Foundation

/// `chikaya rules suggest`: keywords learnt from the city's corrections, measured, and written as
/// a candidate rules file that an administrator reviews and publishes.
enum RulesSuggesting {
    static let usage = """
           chikaya rules suggest [--since 90d] [--labelled FILE.tsv] [--min-support N] [--output FILE]
    """

    static let help = """
      suggest mine the complaints staff moved to another department after routing (hand
              routings out of triage included), the complaints nobody moved (taken as right),
              and the rows of a labelled corpus (--labelled, id lang arrondissement department
              text) for words, prefixes, Darija skeletons and two-word phrases that would have
              routed the wrongly routed ones right and are not in the rules in force; each is
              backtested on all of them: fixed, broken, net gain, examples (default --since 90d,
              --min-support 2). --output writes the rules in force plus the suggestions, each with
              a '# suggested: +N fixed, -M broken' comment; it never publishes
    """

    static func suggest(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "rules")
        let since = try DurationArgument.seconds(try arguments.option("--since") ?? "90d", option: "--since",
                                                 command: "rules suggest")
        let labelled = try arguments.option("--labelled")
        let minSupport = try arguments.intOption("--min-support", default: 2, range: 1...10_000)
        let output = try arguments.option("--output")
        try arguments.finish()

        var extra: [LabelledExample] = []
        var skipped: [String] = []
        if let labelled {
            let source: String
            do {
                source = try String(contentsOfFile: labelled, encoding: .utf8)
            } catch {
                throw CLIError.noInput("cannot read '\(labelled)': \(error.localizedDescription)")
            }
            let corpus: LabelledCorpus
            do { corpus = try LabelledCorpus.parse(source, fileName: labelled) } catch { throw CLIError.dataError(error.description) }
            for row in corpus.rows {
                guard let department = row.department else { continue }
                guard CityDirectory.departmentCodes.contains(department) else {
                    skipped.append("\(labelled):\(row.line): unknown department '\(department)'")
                    continue
                }
                extra.append(LabelledExample(reference: row.id, text: row.text, arrondissement: row.arrondissement,
                                             department: department))
            }
        }

        let db = try runtime.connect(role: "rules")
        let latest: RulesPublication?
        let history: CorrectionHistory
        do {
            latest = try RulesStore.latest(on: db)
            history = try Corrections.history(sinceSeconds: since, on: db)
        } catch {
            throw CLIError.database(error)
        }
        guard let inForce = latest, let rulesSource = inForce.source else {
            throw CLIError.dataError("rules suggest: no rules are published yet; publish them first with: chikaya rules publish FILE")
        }
        let examples = history.examples + extra
        let started = Date()
        let report: SuggestionReport
        do {
            report = try RuleSuggester(minSupport: minSupport).suggest(rulesSource: rulesSource,
                                                                       fileName: inForce.fileName, examples: examples)
        } catch {
            throw CLIError.dataError("rules suggest: the rules in force do not parse any more: \(error.description)")
        }
        var stderr = StandardError()
        for line in skipped { print(line, to: &stderr) }

        print("rules in force: version \(inForce.version) (\(inForce.fileName))")
        print("learnt from: \(history.corrections) corrections and \(history.confirmed) complaints nobody moved, "
              + "submitted in the last \(Duration.human(since))"
              + (labelled.map { ", and \(extra.count) labelled rows of \($0)" } ?? "")
              + (history.unlabelled > 0 ? " (\(history.unlabelled) still in triage, left out)" : ""))
        func share(_ n: Int) -> String {
            report.examined > 0 ? String(format: "%.1f%%", 100 * Double(n) / Double(report.examined)) : "-"
        }
        print("routed right: \(report.rightBefore)/\(report.examined) (\(share(report.rightBefore))) by the rules in force, "
              + "\(report.rightAfter)/\(report.examined) (\(share(report.rightAfter))) with every suggestion below")
        print("candidates measured: \(report.candidatesMeasured), kept: \(report.suggestions.count), "
              + "in \(String(format: "%.1f", Date().timeIntervalSince(started)))s")
        if report.suggestions.isEmpty {
            print("no suggestion: no new keyword fixes at least \(minSupport) complaints without breaking as many")
        } else {
            print("")
            var table = TextTable(["DEPARTMENT", "KEYWORD LINE", "FIXED", "BROKEN", "NET", "FIXES E.G.", "BREAKS E.G."],
                                  rightAligned: [2, 3, 4])
            for s in report.suggestions {
                table.add([s.department, s.line, String(s.fixed), String(s.broken), "+\(s.netGain)",
                           s.fixedExamples.joined(separator: ", "),
                           s.brokenExamples.isEmpty ? "-" : s.brokenExamples.joined(separator: ", ")])
            }
            print(table.render())
        }
        if let output {
            // The file must be one `rules check` accepts: parsed here before it is written.
            do {
                _ = try RuleSet.parse(source: report.candidateFile, fileName: output)
            } catch {
                throw CLIError.dataError("rules suggest: the candidate file does not parse (please report): \(error.description)")
            }
            do {
                try report.candidateFile.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError.failure("cannot write '\(output)': \(error.localizedDescription)")
            }
            print("")
            print("wrote \(output): the rules in force and \(report.suggestions.count) suggested lines; nothing is published.")
            print("review it, then: chikaya rules backtest \(output); chikaya rules publish \(output) --note \"suggested keywords\"")
        }
        return 0
    }
}
