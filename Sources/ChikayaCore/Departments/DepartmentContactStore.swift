import Postgres

/// An office's address: `arrondissement` nil is the department's default office.
public struct DepartmentContact: Sendable, Equatable {
    public let department: String
    public let arrondissement: String?
    public let email: String
}

/// All SQL of `department_contacts`: the offices' addresses. Every change is audited by the
/// table's trigger (`ContactHistoryStore` reads the audit) and releases the deliveries that
/// waited for the office (`department_deliveries_waiting`).
public enum DepartmentContactStore {
    public static func contacts(on db: PostgresConnection) throws(PostgresError) -> [DepartmentContact] {
        try db.query("""
            SELECT department, arrondissement, email FROM department_contacts
            ORDER BY department, arrondissement NULLS FIRST
            """).rows.map { row throws(PostgresError) in
                DepartmentContact(department: try row.decode("department"),
                                  arrondissement: try row.decode("arrondissement"), email: try row.decode("email"))
            }
    }

    /// The address an assignment of `department` from `arrondissement` goes to, if any.
    public static func resolveContact(department: String, arrondissement: String?,
                                      on db: PostgresConnection) throws(PostgresError) -> String? {
        try db.query("SELECT department_contact_for($1, $2)", [department, arrondissement]).single().decode(0)
    }

    /// Sets an office's address, audited under the session's login (`chikaya_actor()`); returns
    /// the previous address and how many waiting deliveries the new contact released to the outbox.
    public static func setContact(department: String, arrondissement: String?, email: String,
                                  note: String? = nil, on db: PostgresConnection) throws -> (old: String?, released: Int) {
        try DepartmentStore.validate(department: department, arrondissement: arrondissement, on: db)
        guard DepartmentStore.isPlausibleEmail(email) else {
            throw DepartmentError(.invalidEmail, "'\(email)' is not an email address")
        }
        return try db.transaction { db in
            try AuditTrail.describe(note: note, on: db)
            let old: String? = try db.query("""
                SELECT email FROM department_contacts
                WHERE department = $1 AND arrondissement IS NOT DISTINCT FROM $2 FOR UPDATE
                """, [department, arrondissement]).rows.first?.decode(0)
            let before = try DepartmentStore.waitingCount(department: department, on: db)
            try db.query("""
                INSERT INTO department_contacts (department, arrondissement, email) VALUES ($1, $2, $3)
                ON CONFLICT ON CONSTRAINT department_contacts_office
                DO UPDATE SET email = EXCLUDED.email, updated_at = now()
                """, [department, arrondissement, email])
            let after = try DepartmentStore.waitingCount(department: department, on: db)
            return (old, before - after)
        }
    }

    /// Removes an office's address, audited; returns the address it had.
    public static func removeContact(department: String, arrondissement: String?, note: String? = nil,
                                     on db: PostgresConnection) throws -> String {
        try DepartmentStore.validate(department: department, arrondissement: arrondissement, on: db)
        return try db.transaction { db in
            try AuditTrail.describe(note: note, on: db)
            let removed = try db.query("""
                DELETE FROM department_contacts WHERE department = $1 AND arrondissement IS NOT DISTINCT FROM $2
                RETURNING email
                """, [department, arrondissement])
            guard let row = removed.rows.first else {
                throw DepartmentError(.noSuchContact, "\(department)\(arrondissement.map { " (\($0))" } ?? " (default office)") has no contact to remove")
            }
            return try row.decode(0, as: String.self)
        }
    }
}
