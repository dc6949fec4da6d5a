import Foundation
import Postgres

/// One department with its settings and the offices that have a contact.
public struct DepartmentOverview: Sendable {
    public let code: String
    public let nameFR: String
    public let workingLanguage: String
    public let replyTo: String?
    public let firstActionDays: Int?
    public let resolutionDays: Int?
    public let contacts: [DepartmentContact]
}

/// What `departments check` reports: departments without a default office, and the assignments
/// waiting for a contact, per office.
public struct DepartmentCheck: Sendable {
    /// Assignments of one office still waiting for a contact address.
    public struct Waiting: Sendable {
        public let department: String
        public let arrondissement: String?
        public let complaints: Int
        public let oldest: Date
    }
    public let withoutDefault: [String]
    public let waiting: [Waiting]
    public var isClean: Bool { withoutDefault.isEmpty && waiting.isEmpty }
}

/// A refusal of a departments command, in words an operator can act on.
public struct DepartmentError: Error, CustomStringConvertible, Equatable {
    /// Which refusal it is, for callers and tests that act on the kind rather than the words.
    public enum Code: String, Sendable { case unknownDepartment, unknownArrondissement, invalidEmail, noSuchContact, invalidFile }
    public let code: Code
    public let description: String
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// The SQL of the departments themselves: their settings, what `departments check` reports, and
/// the checks the other department stores share. Their offices' addresses are
/// `DepartmentContactStore`'s, the audit of those `ContactHistoryStore`'s, the office email's
/// details `DepartmentDeliveryStore`'s, the digests `DigestStore`'s.
public enum DepartmentStore {
    public static func overview(on db: PostgresConnection) throws(PostgresError) -> [DepartmentOverview] {
        let contacts = try DepartmentContactStore.contacts(on: db)
        return try db.query("""
            SELECT code, name_fr, working_language, reply_to, first_action_days, resolution_days
            FROM departments ORDER BY code
            """).rows.map { row throws(PostgresError) in
                let code: String = try row.decode("code")
                return DepartmentOverview(code: code, nameFR: try row.decode("name_fr"),
                                          workingLanguage: try row.decode("working_language"),
                                          replyTo: try row.decode("reply_to"), firstActionDays: try row.decode("first_action_days"),
                                          resolutionDays: try row.decode("resolution_days"),
                                          contacts: contacts.filter { $0.department == code })
            }
    }

    /// Stores a department's working language, Reply-To and deadlines (nil clears a deadline).
    public static func applySettings(department: String, language: String, replyTo: String?, firstActionDays: Int?,
                                     resolutionDays: Int?, on db: PostgresConnection) throws {
        try validate(department: department, arrondissement: nil, on: db)
        try db.query("""
            UPDATE departments SET working_language = $2, reply_to = $3, first_action_days = $4, resolution_days = $5
            WHERE code = $1
            """, [department, language, replyTo, firstActionDays, resolutionDays])
    }

    public static func check(on db: PostgresConnection) throws(PostgresError) -> DepartmentCheck {
        let withoutDefault = try db.query("""
            SELECT code FROM departments d
            WHERE NOT EXISTS (SELECT 1 FROM department_contacts c WHERE c.department = d.code AND c.arrondissement IS NULL)
            ORDER BY code
            """).rows.map { row throws(PostgresError) in try row.decode(0, as: String.self) }
        let waiting = try db.query("""
            SELECT department, arrondissement, count(*) AS complaints, min(since) AS oldest FROM department_deliveries_waiting
            GROUP BY department, arrondissement ORDER BY department, arrondissement NULLS FIRST
            """).rows.map { row throws(PostgresError) in
                DepartmentCheck.Waiting(department: try row.decode("department"),
                                        arrondissement: try row.decode("arrondissement"),
                                        complaints: try row.decode("complaints"), oldest: try row.decode("oldest"))
            }
        return DepartmentCheck(withoutDefault: withoutDefault, waiting: waiting)
    }

    // MARK: - helpers

    static func waitingCount(department: String, on db: PostgresConnection) throws(PostgresError) -> Int {
        try db.query("SELECT count(*) FROM department_deliveries_waiting WHERE department = $1", [department]).single().decode(0)
    }

    static func validate(department: String, arrondissement: String?, on db: PostgresConnection) throws {
        let row = try db.query("""
            SELECT EXISTS (SELECT 1 FROM departments WHERE code = $1) AS department_known,
                   $2::text IS NULL OR EXISTS (SELECT 1 FROM arrondissements WHERE code = $2) AS arrondissement_known
            """, [department, arrondissement]).single()
        guard try row.decode("department_known", as: Bool.self) else {
            let known = try db.query("SELECT string_agg(code, ', ' ORDER BY code) FROM departments").single().decode(0, as: String.self)
            throw DepartmentError(.unknownDepartment, "unknown department '\(department)' (known: \(known))")
        }
        guard try row.decode("arrondissement_known", as: Bool.self) else {
            let known = try db.query("SELECT string_agg(code, ', ' ORDER BY code) FROM arrondissements").single().decode(0, as: String.self)
            throw DepartmentError(.unknownArrondissement, "unknown arrondissement '\(arrondissement ?? "")' (known: \(known))")
        }
    }

    /// The shape the schema's CHECK accepts; the notifier validates fully before sending.
    static func isPlausibleEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && !text.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" })
    }
}
