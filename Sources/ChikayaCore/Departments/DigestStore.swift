import Foundation
import Postgres

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

/// All SQL of the offices' daily digests: what each office has open, new and late on a day, and
/// `digests_sent`, which makes each office's digest of a day go out once.
public enum DigestStore {
    /// The day a digest run belongs to (Casablanca's calendar), and the time its ages and
    /// lateness are measured at: now for today, the end of that day for a past day.
    public static func day(_ date: String?, on db: PostgresConnection) throws(PostgresError) -> (day: String, at: Date) {
        let row = try db.query("""
            WITH d AS (SELECT coalesce($1::date, (now() AT TIME ZONE 'Africa/Casablanca')::date) AS day)
            SELECT day::text AS day, least(now(), ((day + 1)::timestamp AT TIME ZONE 'Africa/Casablanca')) AS at FROM d
            """, [date]).single()
        return (try row.decode("day"), try row.decode("at"))
    }

    /// Each office's open complaints, those assigned since its last digest, and lateness at `at`.
    public static func offices(department: String?, day: String, at: Date,
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
            SELECT b.department, d.name_fr AS department_fr, d.name_ar AS department_ar, d.working_language, d.reply_to, b.office,
                   department_contact_for(b.department, nullif(b.office, '')) AS recipient,
                   EXISTS (SELECT 1 FROM digests_sent s WHERE s.department = b.department AND s.office = b.office AND s.day = $3::date)
                       AS already_sent,
                   b.reference, b.arrondissement, b.status, b.assigned_at,
                   extract(epoch FROM $2::timestamptz - b.assigned_at)::float8 AS age_seconds,
                   b.assigned_at > coalesce(l.at, '-infinity') AS is_new,
                   coalesce(array_to_string(lt.targets, ','), '') AS late
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
            let code: String = try row.decode("department")
            let office: String = try row.decode("office")
            let key = code + "\u{0}" + office
            if current?.key != key {
                if let done = current { offices.append(done.head.with(entries: done.entries)) }
                let head = DigestOffice(department: code, departmentNameFR: try row.decode("department_fr"),
                                        departmentNameAR: try row.decode("department_ar"),
                                        workingLanguage: try row.decode("working_language"),
                                        replyTo: try row.decode("reply_to"), office: office,
                                        recipient: try row.decode("recipient"),
                                        alreadySent: try row.decode("already_sent"), entries: [])
                current = (key, head, [])
            }
            let late: String = try row.decode("late")
            current?.entries.append(DigestEntry(reference: try row.decode("reference"),
                                                arrondissement: try row.decode("arrondissement"),
                                                status: try row.decode("status"),
                                                assignedAt: try row.decode("assigned_at"),
                                                ageSeconds: try row.decode("age_seconds"),
                                                isNew: try row.decode("is_new"),
                                                late: late.isEmpty ? [] : late.split(separator: ",").map(String.init)))
        }
        if let done = current { offices.append(done.head.with(entries: done.entries)) }
        return offices
    }

    /// Takes the office's digest of `day` for `leaseSeconds`: a new row, or one left in
    /// `sending` by a run that stopped before recording its outcome and whose lease is over.
    /// Returns the claim's token (its time, as text), or nil when the digest is sent or another
    /// run holds it.
    public static func claim(department: String, office: String, day: String, recipient: String, complaints: Int,
                             leaseSeconds: Double, on db: PostgresConnection) throws(PostgresError) -> String? {
        let result = try db.query("""
            INSERT INTO digests_sent AS d (department, office, day, recipient, complaints)
            VALUES ($1, $2, $3::date, $4, $5)
            ON CONFLICT (department, office, day) DO UPDATE
            SET recipient = EXCLUDED.recipient, complaints = EXCLUDED.complaints, sent_at = clock_timestamp()
            WHERE d.state = 'sending' AND d.sent_at < now() - make_interval(secs => $6::float8)
            RETURNING sent_at::text
            """, [department, office, day, recipient, complaints, leaseSeconds])
        return result.count == 1 ? try result[0].decode(0) : nil
    }

    /// Records the sent digest; false when the claim `token` is no longer the row's (its lease
    /// ran out and another run took it).
    @discardableResult
    public static func markSent(department: String, office: String, day: String, token: String, messageID: String,
                                reply: String, on db: PostgresConnection) throws(PostgresError) -> Bool {
        try db.query("""
            UPDATE digests_sent SET state = 'sent', message_id = $4, reply = $5, sent_at = now()
            WHERE department = $1 AND office = $2 AND day = $3::date AND state = 'sending' AND sent_at = $6::timestamptz
            RETURNING day
            """, [department, office, day, messageID, String(reply.prefix(1_000)), token]).count == 1
    }

    /// Gives a claimed digest back after a failed send, so the next run tries again.
    public static func release(department: String, office: String, day: String, token: String,
                               on db: PostgresConnection) throws(PostgresError) {
        try db.query("""
            DELETE FROM digests_sent
            WHERE department = $1 AND office = $2 AND day = $3::date AND state = 'sending' AND sent_at = $4::timestamptz
            """, [department, office, day, token])
    }
}

extension DigestOffice {
    func with(entries: [DigestEntry]) -> DigestOffice {
        DigestOffice(department: department, departmentNameFR: departmentNameFR, departmentNameAR: departmentNameAR,
                     workingLanguage: workingLanguage, replyTo: replyTo, office: office, recipient: recipient,
                     alreadySent: alreadySent, entries: entries)
    }
}
