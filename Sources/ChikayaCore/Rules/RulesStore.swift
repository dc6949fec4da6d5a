import Foundation
import Postgres

/// One publication of the routing rules.
public struct RulesPublication: Sendable {
    public let id: Int64
    public let version: String
    public let fileName: String
    public let author: String
    public let note: String?
    public let publishedAt: Date
    public let source: String?
}

/// All SQL of `rules_publications`. The latest row is the rules in force; publishing again an
/// older text (a rollback) adds a row, so the history keeps every switch.
public enum RulesStore {
    /// Publishes a rules text; the database records the login as its author (`chikaya_actor()`).
    public static func publish(source: String, version: String, fileName: String, note: String?,
                               on db: PostgresConnection) throws(PostgresError) -> Int64 {
        try db.query("""
            INSERT INTO rules_publications (version, source, file_name, note)
            VALUES ($1, $2, $3, $4) RETURNING id
            """, [version, source, fileName, note]).single().decode(0)
    }

    public static func latest(on db: PostgresConnection) throws(PostgresError) -> RulesPublication? {
        let result = try db.query("""
            SELECT id, version, file_name, author, note, published_at, source
            FROM rules_publications ORDER BY id DESC LIMIT 1
            """)
        guard result.count > 0 else { return nil }
        return try publication(result[0], withSource: true)
    }

    /// The rules version of the most recent routing decision, if any.
    public static func lastDecisionVersion(on db: PostgresConnection) throws(PostgresError) -> String? {
        let result = try db.query("SELECT rules_version FROM routing_decisions ORDER BY decided_at DESC LIMIT 1")
        return result.count > 0 ? try result[0].decode(0) : nil
    }

    /// The latest publications with their text, newest first (for a worker that cannot load the
    /// latest one and falls back to the newest it can).
    public static func recent(on db: PostgresConnection, limit: Int) throws(PostgresError) -> [RulesPublication] {
        let result = try db.query("""
            SELECT id, version, file_name, author, note, published_at, source
            FROM rules_publications ORDER BY id DESC LIMIT $1
            """, [limit])
        return try result.rows.map { row throws(PostgresError) in try publication(row, withSource: true) }
    }

    /// The distinct published versions that `prefix` names (the full version or a prefix of it).
    public static func versions(matching prefix: String, on db: PostgresConnection) throws(PostgresError) -> [String] {
        try db.query("""
            SELECT DISTINCT version FROM rules_publications WHERE starts_with(version, $1) ORDER BY version
            """, [prefix]).rows.map { row throws(PostgresError) in try row.decode(0) }
    }

    /// The most recent publication of `version` (for rollback), with its text.
    public static func find(version: String, on db: PostgresConnection) throws(PostgresError) -> RulesPublication? {
        let result = try db.query("""
            SELECT id, version, file_name, author, note, published_at, source
            FROM rules_publications
            WHERE version = $1 OR starts_with(version, $1)
            ORDER BY id DESC LIMIT 1
            """, [version])
        guard result.count > 0 else { return nil }
        return try publication(result[0], withSource: true)
    }

    public static func history(on db: PostgresConnection, limit: Int) throws(PostgresError) -> [RulesPublication] {
        let result = try db.query("""
            SELECT id, version, file_name, author, note, published_at
            FROM rules_publications ORDER BY id DESC LIMIT $1
            """, [limit])
        return try result.rows.map { row throws(PostgresError) in try publication(row, withSource: false) }
    }

    private static func publication(_ row: PostgresRow, withSource: Bool) throws(PostgresError) -> RulesPublication {
        RulesPublication(id: try row.decode("id"), version: try row.decode("version"),
                         fileName: try row.decode("file_name"), author: try row.decode("author"),
                         note: try row.decode("note"), publishedAt: try row.decode("published_at"),
                         source: withSource ? try row.decode("source", as: String.self) : nil)
    }
}
