import Foundation
import Postgres

/// One audited contact change.
public struct ContactChange: Sendable {
    public let department: String
    public let arrondissement: String?
    public let oldEmail: String?
    public let newEmail: String?
    public let actor: String
    public let at: Date
}

/// The audit of the offices' addresses (`department_contact_changes`), written by the trigger on
/// `department_contacts` under the session's login; this store only reads it.
public enum ContactHistoryStore {
    public static func changes(department: String?, limit: Int, on db: PostgresConnection) throws(PostgresError) -> [ContactChange] {
        try db.query("""
            SELECT department, arrondissement, old_email, new_email, actor, at FROM department_contact_changes
            WHERE $1::text IS NULL OR department = $1
            ORDER BY id DESC LIMIT $2
            """, [department, limit]).rows.map { row throws(PostgresError) in
                ContactChange(department: try row.decode("department"), arrondissement: try row.decode("arrondissement"),
                              oldEmail: try row.decode("old_email"), newEmail: try row.decode("new_email"),
                              actor: try row.decode("actor"), at: try row.decode("at"))
            }
    }
}
