/// `chikaya version`: the program's version.
enum VersionCommand: Command {
    static let name = "version"
    static let summary = "print the program's version"
    static let usage = """
    usage: chikaya version

    Prints the version of Chikaya Router.
    """

    static let version = "0.1.0"

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        try arguments.finish()
        print("chikaya \(version)")
        return 0
    }
}
