import Foundation
import Postgres

/// One staff assignment: a login handles a department's complaints, or only those of one
/// arrondissement (`arrondissement` nil: all of them).
public struct StaffAssignment: Sendable, Equatable {
    public let login: String
    public let department: String
    public let arrondissement: String?
    /// Who assigned it, as the database recorded it (`chikaya_actor()`).
    public let assignedBy: String
    public let assignedAt: Date
}

/// A refusal of a staff command, in words an administrator can act on.
public struct StaffError: Error, CustomStringConvertible, Equatable {
    /// Which refusal it is, for callers and tests that act on the kind rather than the words.
    public enum Code: String, Sendable { case unknownLogin, noSuchAssignment, alreadyAssigned }
    public let code: Code
    public let description: String
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// All SQL of `staff_assignments`, the table the staff row-level security policies read. The
/// logins themselves are the DBA's (CREATE ROLE ... LOGIN IN ROLE chikaya_staff): an admin
/// assigns work, it cannot create or empower logins.
public enum StaffStore {
    /// What adding found about the login besides the assignment.
    public struct Added: Sendable {
        /// False when the login is not a member of chikaya_staff: the assignment is kept but the
        /// login cannot read complaints until a DBA grants the role.
        public let loginIsStaff: Bool
    }

    public static func add(login: String, department: String, arrondissement: String?,
                           on db: PostgresConnection) throws -> Added {
        try DepartmentStore.validate(department: department, arrondissement: arrondissement, on: db)
        let row = try db.query("""
            SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1 AND rolcanlogin) AS login_exists,
                   CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)
                        THEN pg_has_role($1, 'chikaya_staff', 'MEMBER') ELSE false END AS login_is_staff
            """, [login]).single()
        guard try row.decode("login_exists", as: Bool.self) else {
            throw StaffError(.unknownLogin, """
                no database login is named '\(login)'; a DBA creates it first: \
                CREATE ROLE "\(login)" LOGIN IN ROLE chikaya_staff (docs/security.md)
                """)
        }
        let inserted = try db.execute("""
            INSERT INTO staff_assignments (login, department, arrondissement) VALUES ($1, $2, $3)
            ON CONFLICT ON CONSTRAINT staff_assignments_scope DO NOTHING
            """, [login, department, arrondissement])
        guard inserted == 1 else {
            throw StaffError(.alreadyAssigned, "\(login) is already assigned to \(scope(department, arrondissement))")
        }
        return Added(loginIsStaff: try row.decode("login_is_staff"))
    }

    /// Removes one assignment; the login stops seeing those complaints at its next statement.
    public static func remove(login: String, department: String, arrondissement: String?,
                              on db: PostgresConnection) throws {
        let removed = try db.execute("""
            DELETE FROM staff_assignments
            WHERE login = $1 AND department = $2 AND arrondissement IS NOT DISTINCT FROM $3
            """, [login, department, arrondissement])
        guard removed > 0 else {
            throw StaffError(.noSuchAssignment, "\(login) is not assigned to \(scope(department, arrondissement))")
        }
    }

    /// Every assignment (an admin), or the login's own (a staff login: row-level security).
    public static func list(login: String?, on db: PostgresConnection) throws(PostgresError) -> [StaffAssignment] {
        try db.query("""
            SELECT login, department, arrondissement, assigned_by, assigned_at FROM staff_assignments
            WHERE $1::text IS NULL OR login = $1
            ORDER BY login, department, arrondissement NULLS FIRST
            """, [login]).rows.map { row throws(PostgresError) in
                StaffAssignment(login: try row.decode("login"), department: try row.decode("department"),
                                arrondissement: try row.decode("arrondissement"),
                                assignedBy: try row.decode("assigned_by"), assignedAt: try row.decode("assigned_at"))
            }
    }

    static func scope(_ department: String, _ arrondissement: String?) -> String {
        arrondissement.map { "\(department) in \($0)" } ?? "\(department) (every arrondissement)"
    }
}
