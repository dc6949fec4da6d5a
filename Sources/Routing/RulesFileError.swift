/// A rules file that cannot be used: every error found in it (not only the first), so that an
/// administrator fixes them all in one pass. `description` is one diagnostic per line.
public struct RulesFileError: Error, CustomStringConvertible {
    public let diagnostics: [RulesDiagnostic]

    public init(diagnostics: [RulesDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
