import Postgres

/// The schema's migration record as the database has it.
public struct AppliedMigrations: Sendable {
    /// False when `schema_migrations` does not exist: `chikaya migrate` never ran here.
    public let tracked: Bool
    /// Version to checksum.
    public let checksums: [Int: String]
}

/// The outbox's oldest pending notification.
public struct OutboxBacklog: Sendable {
    public let pending: Int
    public let oldestPendingSeconds: Double?
}

/// Office addresses that bounce, when the database records bounces at all.
public struct OfficeBounces: Sendable {
    /// False until the inbound-mail schema (the suppression list) exists.
    public let tracked: Bool
    /// Offices (`department` or `department/arrondissement`) whose address is on the suppression
    /// list: a permanent bounce, or repeated temporary ones, put it there.
    public let offices: [String]
}

/// The read-only SQL of `chikaya health` that no other store owns: the server, the migration
/// record, the outbox's age and the offices' bounces. Each query reads only what exists, so the
/// check works on an empty database, a half-migrated one, and before the inbound-mail schema.
public enum HealthStore {
    public static func serverVersion(on db: PostgresConnection) throws(PostgresError) -> String {
        try db.query("SELECT current_setting('server_version')").single().decode(0)
    }

    public static func appliedMigrations(on db: PostgresConnection) throws(PostgresError) -> AppliedMigrations {
        let tracked: Bool = try db.query("SELECT to_regclass('schema_migrations') IS NOT NULL").single().decode(0)
        guard tracked else { return AppliedMigrations(tracked: false, checksums: [:]) }
        var checksums: [Int: String] = [:]
        for row in try db.query("SELECT version, checksum FROM schema_migrations").rows {
            checksums[try row.decode("version", as: Int.self)] = try row.decode("checksum", as: String.self)
        }
        return AppliedMigrations(tracked: true, checksums: checksums)
    }

    public static func outboxBacklog(on db: PostgresConnection) throws(PostgresError) -> OutboxBacklog {
        let row = try db.query("""
            SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest_pending_seconds
            FROM notifications WHERE status = 'pending'
            """).single()
        return OutboxBacklog(pending: try row.decode("pending"), oldestPendingSeconds: try row.decode("oldest_pending_seconds"))
    }

    /// Bounces are recorded by the inbound-mail schema (migration 7). Before it exists there is
    /// nothing to read, and the answer says so rather than "none". The office addresses on the
    /// suppression list come through `bounced_offices()`, which readonly may run: the list itself
    /// holds citizens' addresses, which readonly may not read.
    public static func officeBounces(on db: PostgresConnection) throws(PostgresError) -> OfficeBounces {
        let suppressionList: Bool = try db.query("SELECT to_regprocedure('bounced_offices()') IS NOT NULL").single().decode(0)
        guard suppressionList else { return OfficeBounces(tracked: false, offices: []) }
        // PostgreSQL refuses a statement that names a missing function, so this one runs only
        // once the check above found it.
        let offices = try db.query("""
            SELECT DISTINCT department || coalesce('/' || arrondissement, '') FROM bounced_offices() ORDER BY 1
            """).rows.map { row throws(PostgresError) in try row.decode(0, as: String.self) }
        return OfficeBounces(tracked: true, offices: offices)
    }
}
