/// One `chikaya` sub-command: its name, a one-line summary for `chikaya --help`, its full usage
/// for `chikaya help NAME`, and what it does.
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    static var usage: String { get }
    /// Runs with the words after the command's name; returns the exit code.
    static func run(_ arguments: inout Arguments) throws -> Int32
}
