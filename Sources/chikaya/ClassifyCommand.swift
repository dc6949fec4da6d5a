import Foundation
import Routing
#if canImport(Glibc)
import Glibc
#endif

/// `chikaya classify`: one complaint, or a whole TSV file with `--batch`.
enum ClassifyCommand: Command {
    static let name = "classify"
    static let summary = "route a complaint text (or a TSV batch) to a department"
    static let usage = """
    usage: chikaya classify [--rules FILE] [--arrondissement CODE] [--explain] "TEXT"
           chikaya classify [--rules FILE] --batch FILE.tsv

    Prints the department code the routing rules choose for TEXT ("triage" when they abstain).
      --explain             also print the normalised text, every match with its rule line and
                            weight, every department's score and why the decision was taken
      --arrondissement CODE the complaint's arrondissement (rules may be restricted to some)
      --batch FILE.tsv      read the corpus format (id lang arrondissement department text) and
                            write id<TAB>department<TAB>confidence per row, in input order
      --rules FILE          the rules file (default \(RulesLoading.defaultPath))
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let rulesPath = try arguments.option("--rules")
        let batch = try arguments.option("--batch")
        let area = try arguments.option("--arrondissement")
        let explain = arguments.flag("--explain")
        let text = arguments.positional()
        try arguments.finish()
        if let area, !CityDirectory.arrondissementCodes.contains(area) {
            throw CLIError.usage("classify: unknown arrondissement '\(area)'")
        }
        let classifier = Classifier(rules: try RulesLoading.load(rulesPath))
        if let batch {
            guard text == nil else { throw CLIError.usage("classify: give either TEXT or --batch FILE, not both") }
            try BatchClassification.run(path: batch, classifier: classifier)
            return 0
        }
        guard let text else { throw CLIError.usage("classify: missing the complaint TEXT (or --batch FILE)") }
        let result = classifier.classify(text, arrondissement: area)
        // The explanation quotes the text it was given: escaped, like any outside text on a terminal.
        TextOutput.show(explain ? result.explanation() + "\n" + result.department : result.department)
        return 0
    }
}
