import ChikayaCore

/// `chikaya migrate`: brings the database schema up to date.
enum MigrateCommand: Command {
    static let name = "migrate"
    static let summary = "create or upgrade the database schema"
    static let usage = """
    usage: chikaya migrate [--config FILE]

    Applies the schema migrations the database does not have yet, each in its own transaction.
    Safe to run any number of times and from several machines at once (an advisory lock
    serialises them). Refuses to go on if an applied migration's text has changed.

    options:
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "migrate")
        try arguments.finish()
        let db = try runtime.connect(role: "migrate")
        let report: MigrationReport
        do {
            report = try MigrationRunner(connection: db).run()
        } catch let error as PostgresError {
            throw CLIError.database(error)
        } catch let error as MigrationError {
            throw CLIError.failure(error.description)
        }
        if report.applied.isEmpty {
            print("schema is up to date (\(report.alreadyApplied) migrations applied)")
        } else {
            for migration in report.applied {
                print("applied migration \(migration.version) \(migration.name)")
            }
        }
        return 0
    }
}
