/// One problem found in a rules file, located by file, line and column (1-based), printed the
/// way compilers print theirs so that editors can jump to it.
public struct RulesDiagnostic: Sendable, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String
    public let isWarning: Bool

    public init(file: String, line: Int, column: Int, message: String, isWarning: Bool) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.isWarning = isWarning
    }

    /// `file:line:column: error: message`; about the whole file (line 0), `file: warning: message`.
    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return "\(place): \(isWarning ? "warning" : "error"): \(message)"
    }
}
