import Postgres

/// What `migrate` did.
public struct MigrationReport: Sendable {
    public var applied: [Migration] = []
    public var alreadyApplied: Int = 0
}

/// The migration runner's refusal to go on, with what a person needs to act.
public struct MigrationError: Error, CustomStringConvertible {
    public let description: String
}

/// Applies pending migrations, each in its own transaction, serialised across processes by an
/// advisory lock so that two `chikaya migrate` started together both succeed.
public struct MigrationRunner {
    /// Arbitrary but fixed: the key of the advisory lock every runner takes.
    static let lockKey: Int64 = 0x6368_696B_6179_61

    let connection: PostgresConnection
    let migrations: [Migration]

    public init(connection: PostgresConnection, migrations: [Migration] = Migrations.all) {
        self.connection = connection
        self.migrations = migrations
    }

    public func run() throws -> MigrationReport {
        try connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey]) }

        try connection.executeScript("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var applied: [Int: String] = [:]
        for row in try connection.query("SELECT version, checksum FROM schema_migrations").rows {
            applied[try row.decode("version", as: Int.self)] = try row.decode("checksum", as: String.self)
        }
        var report = MigrationReport()
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            if let checksum = applied[migration.version] {
                guard checksum == migration.checksum else {
                    throw MigrationError(description: """
                        migration \(migration.version) (\(migration.name)) was applied with checksum \(checksum) \
                        but the program's text has \(migration.checksum): applied migrations must never be edited; \
                        add a new migration instead
                        """)
                }
                report.alreadyApplied += 1
                continue
            }
            do {
                try connection.transaction { db in
                    if migration.asOwner {
                        // Objects belong to the schema's owner whoever runs migrate; SET LOCAL ends with the transaction.
                        try db.executeScript("SET LOCAL ROLE chikaya_owner")
                    }
                    try db.executeScript(migration.sql)
                    try db.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                 [migration.version, migration.name, migration.checksum])
                }
            } catch let error as PostgresError where error.sqlState == SQLState.insufficientPrivilege {
                let remedy = migration.asOwner
                    ? "run migrate as a login that is a member of chikaya_owner"
                    : "run this migration once as a superuser: it creates the roles and hands the schema to chikaya_owner (docs/security.md)"
                throw MigrationError(description: "migration \(migration.version) (\(migration.name)) was refused: \(error.message); \(remedy)")
            }
            report.applied.append(migration)
        }
        let known = Set(migrations.map(\.version))
        if let unknown = applied.keys.filter({ !known.contains($0) }).max() {
            throw MigrationError(description: "the database has migration \(unknown), which this program does not know: it is older than the schema; upgrade the program")
        }
        return report
    }
}
