import Foundation
import Postgres

/// The statuses a complaint can have, in lifecycle order (the database's CHECK has the same list).
public enum ComplaintStatus {
    public static let all = ["received", "assigned", "in_progress", "resolved", "rejected"]
}

/// Which complaints `complaints list` shows; nil fields do not filter.
public struct ComplaintFilter: Sendable {
    public var department: String?
    public var status: String?
    public var arrondissement: String?
    /// Only complaints submitted at least this many seconds ago.
    public var olderThanSeconds: Double?
    /// Only complaints past a deadline of their department (the `late_complaints` view).
    public var lateOnly: Bool = false
    public var limit: Int

    public init(department: String? = nil, status: String? = nil, arrondissement: String? = nil,
                olderThanSeconds: Double? = nil, limit: Int = 50) {
        self.department = department
        self.status = status
        self.arrondissement = arrondissement
        self.olderThanSeconds = olderThanSeconds
        self.limit = limit
    }
}

/// One line of `complaints list`.
public struct ComplaintSummary: Sendable, Codable {
    public let reference: String
    public let submittedAt: Date
    public let ageSeconds: Double
    public let status: String
    public let department: String?
    public let arrondissement: String?
    /// The beginning of the body (the database sends no more than this, not whole bodies).
    public let excerpt: String
    /// The reference of the earlier open complaint the router found this one probably repeats.
    public let duplicateOf: String?
}

/// Everything `complaints show` prints about one complaint.
public struct ComplaintDetail: Sendable {
    /// The complaint row itself, personal data included (staff need it; it is never logged).
    public struct Complaint: Sendable {
        public let id: Int64
        public let reference: String
        public let submittedAt: Date
        public let body: String
        public let language: String?
        public let arrondissement: String?
        public let anonymous: Bool
        public let citizenName: String?
        public let citizenEmail: String?
        public let citizenPhone: String?
        public let notifyLanguage: String?
        public let status: String
        public let department: String?
    }

    /// Metadata of one attachment; the file itself stays in storage.
    public struct Attachment: Sendable {
        public let fileName: String
        public let contentType: String
        public let byteSize: Int64
        public let storageKey: String
    }

    /// The router's audit row for the complaint.
    public struct Decision: Sendable {
        public let department: String
        public let confidence: Double
        public let runnerUp: String?
        /// The matches as stored (`Classification.matchesJSON`).
        public let matchesJSON: String
        public let rulesVersion: String
        public let workerID: String
        public let decidedAt: Date
        /// The earlier complaint this one probably repeats (its reference), and how alike.
        public let duplicateOf: String?
        public let duplicateSimilarity: Double?
    }

    /// One row of `complaint_events`.
    public struct Event: Sendable {
        public let id: Int64
        public let at: Date
        public let fromStatus: String
        public let toStatus: String
        public let fromDepartment: String?
        public let toDepartment: String?
        public let actor: String
        public let note: String?
    }

    /// What was written back on the complaint without changing its status: a citizen's reply
    /// by mail (the author is then "citizen", never the address) or an office's note.
    public struct Note: Sendable {
        public let id: Int64
        public let at: Date
        /// `citizen` or `department`.
        public let authorKind: String
        public let author: String
        public let body: String
    }

    /// One row of the `notifications` outbox: about a status event, a note, or a notice
    /// (`mail-in`'s answer to an office, a bounce alert).
    public struct Notification: Sendable {
        public let id: Int64
        public let eventID: Int64?
        public let noteID: Int64?
        public let noticeID: Int64?
        public let recipientKind: String
        public let recipient: String
        public let template: String
        public let language: String?
        public let status: String
        public let attempts: Int
        public let createdAt: Date
        public let sentAt: Date?
        public let lastError: String?
    }

    public let complaint: Complaint
    public let attachments: [Attachment]
    public let decision: Decision?
    public let events: [Event]
    public let notifications: [Notification]
    public var notes: [Note] = []
    /// True when this login may not read the notes (they can hold what a citizen wrote).
    public var notesHidden = false
}

/// All read-only SQL over complaints for department staff: the list and the full record.
public enum ComplaintQueries {
    /// Newest first. Only the first 200 characters of each body leave the server.
    public static func list(_ filter: ComplaintFilter, on db: PostgresConnection) throws(PostgresError) -> [ComplaintSummary] {
        let result = try db.query("""
            SELECT c.reference, c.submitted_at, extract(epoch FROM now() - c.submitted_at)::float8 AS age_seconds,
                   c.status, c.department, c.arrondissement, left(c.body, 200) AS excerpt,
                   (SELECT dup.reference FROM routing_decisions rd JOIN complaints dup ON dup.id = rd.duplicate_of
                    WHERE rd.complaint_id = c.id) AS duplicate_of
            FROM complaints c
            WHERE ($1::text IS NULL OR c.department = $1)
              AND ($2::text IS NULL OR c.status = $2)
              AND ($3::text IS NULL OR c.arrondissement = $3)
              AND ($4::float8 IS NULL OR c.submitted_at <= now() - make_interval(secs => $4::float8))
              AND (NOT $6::boolean OR c.id IN (SELECT complaint_id FROM late_complaints))
            ORDER BY c.submitted_at DESC, c.id DESC
            LIMIT $5
            """, [filter.department, filter.status, filter.arrondissement, filter.olderThanSeconds, filter.limit,
                  filter.lateOnly])
        return try result.rows.map { row throws(PostgresError) in
            ComplaintSummary(reference: try row.decode("reference"), submittedAt: try row.decode("submitted_at"),
                             ageSeconds: try row.decode("age_seconds"), status: try row.decode("status"),
                             department: try row.decode("department"), arrondissement: try row.decode("arrondissement"),
                             excerpt: try row.decode("excerpt"), duplicateOf: try row.decode("duplicate_of"))
        }
    }

    /// The complaint with its attachments, decision, events and notifications; nil when no
    /// complaint has this reference.
    public static func detail(reference: String, on db: PostgresConnection) throws(PostgresError) -> ComplaintDetail? {
        let found = try db.query("""
            SELECT id, reference, submitted_at, body, language, arrondissement, anonymous,
                   citizen_name, citizen_email, citizen_phone, notify_language, status, department
            FROM complaints WHERE reference = $1
            """, [reference])
        guard found.count > 0 else { return nil }
        let row = found[0]
        let complaint = ComplaintDetail.Complaint(id: try row.decode("id"), reference: try row.decode("reference"),
                                                  submittedAt: try row.decode("submitted_at"),
                                                  body: try row.decode("body"), language: try row.decode("language"),
                                                  arrondissement: try row.decode("arrondissement"),
                                                  anonymous: try row.decode("anonymous"),
                                                  citizenName: try row.decode("citizen_name"),
                                                  citizenEmail: try row.decode("citizen_email"),
                                                  citizenPhone: try row.decode("citizen_phone"),
                                                  notifyLanguage: try row.decode("notify_language"),
                                                  status: try row.decode("status"),
                                                  department: try row.decode("department"))
        let id = complaint.id

        let attachments = try db.query("""
            SELECT file_name, content_type, byte_size, storage_key FROM attachments WHERE complaint_id = $1 ORDER BY id
            """, [id]).rows.map { row throws(PostgresError) in
            ComplaintDetail.Attachment(fileName: try row.decode("file_name"),
                                       contentType: try row.decode("content_type"),
                                       byteSize: try row.decode("byte_size"), storageKey: try row.decode("storage_key"))
        }

        let decisions = try db.query("""
            SELECT rd.department, rd.confidence, rd.runner_up, rd.matches::text AS matches, rd.rules_version, rd.worker_id,
                   rd.decided_at, dup.reference AS duplicate_of, rd.duplicate_similarity
            FROM routing_decisions rd LEFT JOIN complaints dup ON dup.id = rd.duplicate_of
            WHERE rd.complaint_id = $1
            """, [id])
        var decision: ComplaintDetail.Decision?
        if decisions.count > 0 {
            let row = decisions[0]
            decision = ComplaintDetail.Decision(department: try row.decode("department"),
                                                confidence: try row.decode("confidence"),
                                                runnerUp: try row.decode("runner_up"),
                                                matchesJSON: try row.decode("matches"),
                                                rulesVersion: try row.decode("rules_version"),
                                                workerID: try row.decode("worker_id"),
                                                decidedAt: try row.decode("decided_at"),
                                                duplicateOf: try row.decode("duplicate_of"),
                                                duplicateSimilarity: try row.decode("duplicate_similarity"))
        }

        let events = try db.query("""
            SELECT id, at, from_status, to_status, from_department, to_department, actor, note
            FROM complaint_events WHERE complaint_id = $1 ORDER BY id
            """, [id]).rows.map { row throws(PostgresError) in
            ComplaintDetail.Event(id: try row.decode("id"), at: try row.decode("at"),
                                  fromStatus: try row.decode("from_status"), toStatus: try row.decode("to_status"),
                                  fromDepartment: try row.decode("from_department"),
                                  toDepartment: try row.decode("to_department"), actor: try row.decode("actor"),
                                  note: try row.decode("note"))
        }

        let notifications = try db.query("""
            SELECT id, event_id, note_id, notice_id, recipient_kind, recipient, template, language, status, attempts,
                   created_at, sent_at, last_error
            FROM notifications WHERE complaint_id = $1 ORDER BY id
            """, [id]).rows.map { row throws(PostgresError) in
            ComplaintDetail.Notification(id: try row.decode("id"), eventID: try row.decode("event_id"),
                                         noteID: try row.decode("note_id"), noticeID: try row.decode("notice_id"),
                                         recipientKind: try row.decode("recipient_kind"),
                                         recipient: try row.decode("recipient"), template: try row.decode("template"),
                                         language: try row.decode("language"), status: try row.decode("status"),
                                         attempts: try row.decode("attempts"), createdAt: try row.decode("created_at"),
                                         sentAt: try row.decode("sent_at"), lastError: try row.decode("last_error"))
        }
        var detail = ComplaintDetail(complaint: complaint, attachments: attachments, decision: decision, events: events,
                                     notifications: notifications)
        do {
            // The citizen is named "citizen", never by address, whoever reads.
            detail.notes = try db.query("""
                SELECT id, at, author_kind, CASE WHEN author_kind = 'citizen' THEN 'citizen' ELSE author END AS author, body
                FROM complaint_notes WHERE complaint_id = $1 ORDER BY id
                """, [id]).rows.map { row throws(PostgresError) in
                ComplaintDetail.Note(id: try row.decode("id"), at: try row.decode("at"), authorKind: try row.decode("author_kind"),
                                     author: try row.decode("author"), body: try row.decode("body"))
            }
        } catch where error.sqlState == "42501" {
            // A login without the right to read notes sees that there are some it may not read.
            detail.notesHidden = true
        }
        return detail
    }

    /// The text of a published rules version, to rebuild a decision's full explanation.
    public static func rulesSource(version: String, on db: PostgresConnection) throws(PostgresError) -> String? {
        let result = try db.query("""
            SELECT source FROM rules_publications WHERE version = $1 ORDER BY id DESC LIMIT 1
            """, [version])
        return result.count > 0 ? try result[0].decode(0, as: String.self) : nil
    }
}
