import Foundation
import Postgres
import Routing

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

/// An office's address: `arrondissement` nil is the department's default office.
public struct DepartmentContact: Sendable, Equatable {
    public let department: String
    public let arrondissement: String?
    public let email: String
}

/// What `departments check` reports: departments without a default office, and the assignments
/// waiting for a contact, per office.
public struct DepartmentCheck: Sendable {
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

/// One audited contact change.
public struct ContactChange: Sendable {
    public let department: String
    public let arrondissement: String?
    public let oldEmail: String?
    public let newEmail: String?
    public let actor: String
    public let at: Date
}

/// What a department email needs beyond the claimed notification. Personal data is only
/// filled in for complaints that are not anonymous (the query itself leaves it out).
public struct DepartmentDelivery: Sendable {
    public struct Attachment: Sendable {
        public let fileName: String
        public let storageKey: String
    }
    public let reference: String
    public let departmentCode: String
    public let departmentNameFR: String
    public let departmentNameAR: String
    public let arrondissementFR: String?
    public let arrondissementAR: String?
    public let submittedAt: Date
    public let body: String
    public let anonymous: Bool
    public let citizenName: String?
    public let citizenEmail: String?
    public let citizenPhone: String?
    public let replyTo: String?
    /// The previous department when this delivery is a reassignment.
    public let fromDepartment: String?
    public let note: String?
    public let confidence: Double?
    /// Terms that counted for this department in the routing decision, in order, without repeats.
    public let matchedTerms: [String]
    public let attachments: [Attachment]
    /// The earlier open complaint this one probably repeats (its reference), and how alike.
    public var duplicateOf: String? = nil
    public var duplicateSimilarity: Double? = nil
}

/// One complaint line of a digest.
public struct DigestEntry: Sendable {
    public let reference: String
    public let arrondissement: String?
    public let status: String
    public let assignedAt: Date
    public let ageSeconds: Double
    public let isNew: Bool
    /// Missed targets with whole days late, e.g. "first_action:2".
    public let late: [String]
}

/// The digest of one office for one day.
public struct DigestOffice: Sendable {
    public let department: String
    public let departmentNameFR: String
    public let departmentNameAR: String
    public let workingLanguage: String
    public let replyTo: String?
    /// "" for the department's default office, else the arrondissement code.
    public let office: String
    public let recipient: String?
    public let alreadySent: Bool
    public let entries: [DigestEntry]
}

/// A refusal of a departments command, in words an operator can act on.
public struct DepartmentError: Error, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable { case unknownDepartment, unknownArrondissement, invalidEmail, noSuchContact, invalidFile }
    public let code: Code
    public let description: String
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// All SQL of the departments family: settings, contacts and their audit, waiting deliveries,
/// department email details, late complaints and digests.
public enum DepartmentStore {
    public static func overview(on db: PostgresConnection) throws(PostgresError) -> [DepartmentOverview] {
        let contacts = try self.contacts(on: db)
        return try db.query("""
            SELECT code, name_fr, working_language, reply_to, first_action_days, resolution_days
            FROM departments ORDER BY code
            """).rows.map { row throws(PostgresError) in
                let code: String = try row.decode(0)
                return DepartmentOverview(code: code, nameFR: try row.decode(1), workingLanguage: try row.decode(2),
                                          replyTo: try row.decode(3), firstActionDays: try row.decode(4),
                                          resolutionDays: try row.decode(5),
                                          contacts: contacts.filter { $0.department == code })
            }
    }

    public static func contacts(on db: PostgresConnection) throws(PostgresError) -> [DepartmentContact] {
        try db.query("""
            SELECT department, arrondissement, email FROM department_contacts
            ORDER BY department, arrondissement NULLS FIRST
            """).rows.map { row throws(PostgresError) in
                DepartmentContact(department: try row.decode(0), arrondissement: try row.decode(1), email: try row.decode(2))
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
        try validate(department: department, arrondissement: arrondissement, on: db)
        guard isPlausibleEmail(email) else {
            throw DepartmentError(.invalidEmail, "'\(email)' is not an email address")
        }
        return try db.transaction { db in
            try AuditTrail.describe(note: note, on: db)
            let old: String? = try db.query("""
                SELECT email FROM department_contacts
                WHERE department = $1 AND arrondissement IS NOT DISTINCT FROM $2 FOR UPDATE
                """, [department, arrondissement]).rows.first?.decode(0)
            let before = try waitingCount(department: department, on: db)
            try db.query("""
                INSERT INTO department_contacts (department, arrondissement, email) VALUES ($1, $2, $3)
                ON CONFLICT ON CONSTRAINT department_contacts_office
                DO UPDATE SET email = EXCLUDED.email, updated_at = now()
                """, [department, arrondissement, email])
            let after = try waitingCount(department: department, on: db)
            return (old, before - after)
        }
    }

    /// Removes an office's address, audited; returns the address it had.
    public static func removeContact(department: String, arrondissement: String?, note: String? = nil,
                                     on db: PostgresConnection) throws -> String {
        try validate(department: department, arrondissement: arrondissement, on: db)
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

    /// Stores a department's working language, Reply-To and deadlines (nil clears a deadline).
    public static func applySettings(department: String, language: String, replyTo: String?, firstActionDays: Int?,
                                     resolutionDays: Int?, on db: PostgresConnection) throws {
        try validate(department: department, arrondissement: nil, on: db)
        try db.query("""
            UPDATE departments SET working_language = $2, reply_to = $3, first_action_days = $4, resolution_days = $5
            WHERE code = $1
            """, [department, language, replyTo, firstActionDays, resolutionDays])
    }

    public static func changes(department: String?, limit: Int, on db: PostgresConnection) throws(PostgresError) -> [ContactChange] {
        try db.query("""
            SELECT department, arrondissement, old_email, new_email, actor, at FROM department_contact_changes
            WHERE $1::text IS NULL OR department = $1
            ORDER BY id DESC LIMIT $2
            """, [department, limit]).rows.map { row throws(PostgresError) in
                ContactChange(department: try row.decode(0), arrondissement: try row.decode(1), oldEmail: try row.decode(2),
                              newEmail: try row.decode(3), actor: try row.decode(4), at: try row.decode(5))
            }
    }

    public static func check(on db: PostgresConnection) throws(PostgresError) -> DepartmentCheck {
        let withoutDefault = try db.query("""
            SELECT code FROM departments d
            WHERE NOT EXISTS (SELECT 1 FROM department_contacts c WHERE c.department = d.code AND c.arrondissement IS NULL)
            ORDER BY code
            """).rows.map { row throws(PostgresError) in try row.decode(0, as: String.self) }
        let waiting = try db.query("""
            SELECT department, arrondissement, count(*), min(since) FROM department_deliveries_waiting
            GROUP BY department, arrondissement ORDER BY department, arrondissement NULLS FIRST
            """).rows.map { row throws(PostgresError) in
                DepartmentCheck.Waiting(department: try row.decode(0), arrondissement: try row.decode(1),
                                        complaints: try row.decode(2), oldest: try row.decode(3))
            }
        return DepartmentCheck(withoutDefault: withoutDefault, waiting: waiting)
    }

    /// The details of a claimed department notification.
    public static func delivery(notificationID: Int64, on db: PostgresConnection) throws(PostgresError) -> DepartmentDelivery? {
        let result = try db.query("""
            SELECT c.reference, d.code, d.name_fr, d.name_ar, a.name_fr, a.name_ar, c.submitted_at, c.body, c.anonymous,
                   CASE WHEN c.anonymous THEN NULL ELSE c.citizen_name END,
                   CASE WHEN c.anonymous THEN NULL ELSE c.citizen_email END,
                   CASE WHEN c.anonymous THEN NULL ELSE c.citizen_phone END,
                   d.reply_to, CASE WHEN e.from_status = 'received' THEN NULL ELSE e.from_department END,
                   coalesce(e.note, cn.body),
                   r.confidence,
                   r.matches::text,
                   coalesce((SELECT jsonb_agg(jsonb_build_array(f.file_name, f.storage_key) ORDER BY f.id)
                             FROM attachments f WHERE f.complaint_id = c.id), '[]'::jsonb)::text,
                   (SELECT dup.reference FROM complaints dup WHERE dup.id = r.duplicate_of), r.duplicate_similarity
            FROM notifications n
            JOIN complaints c ON c.id = n.complaint_id
            LEFT JOIN complaint_events e ON e.id = n.event_id
            LEFT JOIN complaint_notes cn ON cn.id = n.note_id
            JOIN departments d ON d.code = coalesce(e.to_department, c.department)
            LEFT JOIN arrondissements a ON a.code = c.arrondissement
            LEFT JOIN routing_decisions r ON r.complaint_id = c.id
            WHERE n.id = $1
            """, [notificationID])
        guard let row = result.rows.first else { return nil }
        let departmentCode: String = try row.decode(1)
        let terms = DecisionMatch.countedTexts(DecisionMatch.decode(try row.decode(16, as: String?.self)), for: departmentCode)
        let files = (try? JSONDecoder().decode([[String]].self, from: Data(try row.decode(17, as: String.self).utf8))) ?? []
        var delivery = DepartmentDelivery(
            reference: try row.decode(0), departmentCode: departmentCode, departmentNameFR: try row.decode(2),
            departmentNameAR: try row.decode(3), arrondissementFR: try row.decode(4), arrondissementAR: try row.decode(5),
            submittedAt: try row.decode(6), body: try row.decode(7), anonymous: try row.decode(8),
            citizenName: try row.decode(9), citizenEmail: try row.decode(10), citizenPhone: try row.decode(11),
            replyTo: try row.decode(12), fromDepartment: try row.decode(13), note: try row.decode(14),
            confidence: try row.decode(15), matchedTerms: terms,
            attachments: files.compactMap { $0.count == 2 ? .init(fileName: $0[0], storageKey: $0[1]) : nil })
        delivery.duplicateOf = try row.decode(18)
        delivery.duplicateSimilarity = try row.decode(19)
        return delivery
    }

    /// The day a digest run belongs to (Casablanca's calendar), and the time its ages and
    /// lateness are measured at: now for today, the end of that day for a past day.
    public static func digestDay(_ date: String?, on db: PostgresConnection) throws(PostgresError) -> (day: String, at: Date) {
        let row = try db.query("""
            WITH d AS (SELECT coalesce($1::date, (now() AT TIME ZONE 'Africa/Casablanca')::date) AS day)
            SELECT day::text, least(now(), ((day + 1)::timestamp AT TIME ZONE 'Africa/Casablanca')) FROM d
            """, [date]).single()
        return (try row.decode(0), try row.decode(1))
    }

    /// Each office's open complaints, those assigned since its last digest, and lateness at `at`.
    public static func digest(department: String?, day: String, at: Date,
                              on db: PostgresConnection) throws(PostgresError) -> [DigestOffice] {
        let rows = try db.query("""
            WITH base AS (
                SELECT c.id, c.reference, c.department, c.arrondissement, c.status,
                       coalesce(department_office_for(c.department, c.arrondissement), '') AS office,
                       complaint_assigned_at(c.id) AS assigned_at
                FROM complaints c
                WHERE c.department IS NOT NULL AND c.status <> 'received' AND ($1::text IS NULL OR c.department = $1)
            ), last AS (
                SELECT department, office, max(sent_at) AS at FROM digests_sent WHERE state = 'sent' AND day < $3::date
                GROUP BY department, office
            ), late AS (
                SELECT complaint_id, array_agg(target || ':' || days_late ORDER BY target) AS targets
                FROM late_complaints_at($2) GROUP BY complaint_id
            )
            SELECT b.department, d.name_fr, d.name_ar, d.working_language, d.reply_to, b.office,
                   department_contact_for(b.department, nullif(b.office, '')),
                   EXISTS (SELECT 1 FROM digests_sent s WHERE s.department = b.department AND s.office = b.office AND s.day = $3::date),
                   b.reference, b.arrondissement, b.status, b.assigned_at,
                   extract(epoch FROM $2::timestamptz - b.assigned_at)::float8,
                   b.assigned_at > coalesce(l.at, '-infinity'), coalesce(array_to_string(lt.targets, ','), '')
            FROM base b
            JOIN departments d ON d.code = b.department
            LEFT JOIN last l ON l.department = b.department AND l.office = b.office
            LEFT JOIN late lt ON lt.complaint_id = b.id
            WHERE b.assigned_at <= $2
              AND (b.status IN ('assigned', 'in_progress') OR b.assigned_at > coalesce(l.at, '-infinity'))
            ORDER BY b.department, b.office, b.assigned_at, b.id
            """, [department, at, day])
        var offices: [DigestOffice] = []
        var current: (key: String, head: DigestOffice, entries: [DigestEntry])?
        for row in rows.rows {
            let code: String = try row.decode(0)
            let office: String = try row.decode(5)
            let key = code + "\u{0}" + office
            if current?.key != key {
                if let done = current { offices.append(done.head.with(entries: done.entries)) }
                let head = DigestOffice(department: code, departmentNameFR: try row.decode(1), departmentNameAR: try row.decode(2),
                                        workingLanguage: try row.decode(3), replyTo: try row.decode(4), office: office,
                                        recipient: try row.decode(6), alreadySent: try row.decode(7), entries: [])
                current = (key, head, [])
            }
            let late: String = try row.decode(14)
            current?.entries.append(DigestEntry(reference: try row.decode(8), arrondissement: try row.decode(9),
                                                status: try row.decode(10), assignedAt: try row.decode(11),
                                                ageSeconds: try row.decode(12), isNew: try row.decode(13),
                                                late: late.isEmpty ? [] : late.split(separator: ",").map(String.init)))
        }
        if let done = current { offices.append(done.head.with(entries: done.entries)) }
        return offices
    }

    /// Takes the office's digest of `day`; false when it was already taken (sent or being sent).
    public static func claimDigest(department: String, office: String, day: String, recipient: String, complaints: Int,
                                   on db: PostgresConnection) throws(PostgresError) -> Bool {
        try db.execute("""
            INSERT INTO digests_sent (department, office, day, recipient, complaints) VALUES ($1, $2, $3::date, $4, $5)
            ON CONFLICT DO NOTHING
            """, [department, office, day, recipient, complaints]) == 1
    }

    public static func markDigestSent(department: String, office: String, day: String, messageID: String, reply: String,
                                      on db: PostgresConnection) throws(PostgresError) {
        try db.query("""
            UPDATE digests_sent SET state = 'sent', message_id = $4, reply = $5, sent_at = now()
            WHERE department = $1 AND office = $2 AND day = $3::date
            """, [department, office, day, messageID, String(reply.prefix(1_000))])
    }

    /// Gives a claimed digest back after a failed send, so the next run tries again.
    public static func releaseDigest(department: String, office: String, day: String,
                                     on db: PostgresConnection) throws(PostgresError) {
        try db.query("DELETE FROM digests_sent WHERE department = $1 AND office = $2 AND day = $3::date AND state = 'sending'",
                     [department, office, day])
    }

    // MARK: - helpers

    private static func waitingCount(department: String, on db: PostgresConnection) throws(PostgresError) -> Int {
        try db.query("SELECT count(*) FROM department_deliveries_waiting WHERE department = $1", [department]).single().decode(0)
    }

    static func validate(department: String, arrondissement: String?, on db: PostgresConnection) throws {
        let row = try db.query("""
            SELECT EXISTS (SELECT 1 FROM departments WHERE code = $1),
                   $2::text IS NULL OR EXISTS (SELECT 1 FROM arrondissements WHERE code = $2)
            """, [department, arrondissement]).single()
        guard try row.decode(0, as: Bool.self) else {
            let known = try db.query("SELECT string_agg(code, ', ' ORDER BY code) FROM departments").single().decode(0, as: String.self)
            throw DepartmentError(.unknownDepartment, "unknown department '\(department)' (known: \(known))")
        }
        guard try row.decode(1, as: Bool.self) else {
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

extension DigestOffice {
    func with(entries: [DigestEntry]) -> DigestOffice {
        DigestOffice(department: department, departmentNameFR: departmentNameFR, departmentNameAR: departmentNameAR,
                     workingLanguage: workingLanguage, replyTo: replyTo, office: office, recipient: recipient,
                     alreadySent: alreadySent, entries: entries)
    }
}
