import Postgres

/// `chikaya departments sync`: the department settings and office addresses of a departments
/// file (config/departments.conf), applied all or nothing in one transaction, so a file that
/// fails half-way leaves the city's addresses as they were.
///
/// Only adds and changes: an office address the file does not list is kept (and reported), since
/// removing one is a decision for `departments remove-contact`.
public enum DepartmentsSync {
    /// What a sync changed.
    public struct Outcome: Sendable {
        /// Departments whose settings the file set.
        public let departments: Int
        /// Office addresses set (new, or changed).
        public let contactsSet: Int
        /// Assignments that waited for an address and were queued to their office.
        public let released: Int
        /// Addresses in the database that the file does not list, kept as they are.
        public let kept: [DepartmentContact]
    }

    /// Throws `DepartmentError` for what the file asks that cannot be (an unknown department, a
    /// bad address) and `PostgresError`; either way nothing was changed.
    public static func apply(_ file: DepartmentsFile, on db: PostgresConnection) throws -> Outcome {
        try db.transaction { db in
            var changed = 0, released = 0
            let existing = try DepartmentContactStore.contacts(on: db)
            for entry in file.entries {
                try DepartmentStore.applySettings(department: entry.department, language: entry.language,
                                                  replyTo: entry.replyTo, firstActionDays: entry.firstActionDays,
                                                  resolutionDays: entry.resolutionDays, on: db)
                for contact in entry.contacts where !existing.contains(contact) {
                    let outcome = try DepartmentContactStore.setContact(department: contact.department,
                                                                 arrondissement: contact.arrondissement,
                                                                 email: contact.email, note: "sync \(file.path)", on: db)
                    changed += 1
                    released += outcome.released
                }
            }
            let listed = Set(file.entries.flatMap(\.contacts).map { "\($0.department)/\($0.arrondissement ?? "")" })
            let kept = existing.filter { !listed.contains("\($0.department)/\($0.arrondissement ?? "")") }
            return Outcome(departments: file.entries.count, contactsSet: changed, released: released, kept: kept)
        }
    }
}
