import Foundation
import Postgres

/// The SQL of the `complaints` and `attachments` tables that the intake side needs.
public enum ComplaintStore {
    /// Rows per INSERT statement: large enough to amortise round trips, small enough for one
    /// parameter of a few megabytes at most.
    static let chunk = 1_000

    /// Inserts complaints in the caller's transaction and returns their references, in order.
    /// The rows travel as one JSON parameter per chunk, never pasted into the SQL.
    public static func insert(_ complaints: [NewComplaint], on db: PostgresConnection) throws -> [String] {
        var references: [String] = []
        references.reserveCapacity(complaints.count)
        let encoder = JSONEncoder()
        var start = 0
        while start < complaints.count {
            let slice = Array(complaints[start..<min(start + chunk, complaints.count)])
            let json = String(decoding: try encoder.encode(slice), as: UTF8.self)
            let result = try db.query("""
                INSERT INTO complaints (body, language, arrondissement, anonymous,
                                        citizen_name, citizen_email, citizen_phone, notify_language)
                SELECT body, language, arrondissement, coalesce(anonymous, false),
                       citizen_name, citizen_email, citizen_phone, notify_language
                FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (
                    body text, language text, arrondissement text, anonymous boolean,
                    citizen_name text, citizen_email text, citizen_phone text, notify_language text))
                    WITH ORDINALITY AS x(body, language, arrondissement, anonymous,
                                         citizen_name, citizen_email, citizen_phone, notify_language, position)
                ORDER BY position
                RETURNING reference
                """, [PostgresJSON(json)])
            for row in result.rows {
                references.append(try row.decode(0, as: String.self))
            }
            start += chunk
        }
        return references
    }
}
