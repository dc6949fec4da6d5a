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

    /// One row of the `notifications` outbox.
    public struct Notification: Sendable {
        public let id: Int64
        public let eventID: Int64
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
}

/// All read-only SQL over complaints for department staff: the list and the full record.
public enum ComplaintQueries {
    /// Newest first. Only the first 200 characters of each body leave the server.
    public static func list(_ filter: ComplaintFilter, on db: PostgresConnection) throws(PostgresError) -> [ComplaintSummary] {
        let result = try db.query("""
            SELECT c.reference, c.submitted_at, extract(epoch FROM now() - c.submitted_at)::float8,
                   c.status, c.department, c.arrondissement, left(c.body, 200),
                   (SELECT dup.reference FROM routing_decisions rd JOIN complaints dup ON dup.id = rd.duplicate_of
                    WHERE rd.complaint_id = c.id)
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
            ComplaintSummary(reference: try row.decode(0), submittedAt: try row.decode(1), ageSeconds: try row.decode(2),
                             status: try row.decode(3), department: try row.decode(4), arrondissement: try row.decode(5),
                             excerpt: try row.decode(6), duplicateOf: try row.decode(7))
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
        let complaint = ComplaintDetail.Complaint(
            id: try row.decode(0), reference: try row.decode(1), submittedAt: try row.decode(2), body: try row.decode(3),
            language: try row.decode(4), arrondissement: try row.decode(5), anonymous: try row.decode(6),
            citizenName: try row.decode(7), citizenEmail: try row.decode(8), citizenPhone: try row.decode(9),
            notifyLanguage: try row.decode(10), status: try row.decode(11), department: try row.decode(12))
        let id = complaint.id

        let attachments = try db.query("""
            SELECT file_name, content_type, byte_size, storage_key FROM attachments WHERE complaint_id = $1 ORDER BY id
            """, [id]).rows.map { row throws(PostgresError) in
            ComplaintDetail.Attachment(fileName: try row.decode(0), contentType: try row.decode(1),
                                       byteSize: try row.decode(2), storageKey: try row.decode(3))
        }

        let decisions = try db.query("""
            SELECT rd.department, rd.confidence, rd.runner_up, rd.matches::text, rd.rules_version, rd.worker_id,
                   rd.decided_at, dup.reference, rd.duplicate_similarity
            FROM routing_decisions rd LEFT JOIN complaints dup ON dup.id = rd.duplicate_of
            WHERE rd.complaint_id = $1
            """, [id])
        var decision: ComplaintDetail.Decision?
        if decisions.count > 0 {
            let row = decisions[0]
            decision = ComplaintDetail.Decision(department: try row.decode(0), confidence: try row.decode(1),
                                                runnerUp: try row.decode(2), matchesJSON: try row.decode(3),
                                                rulesVersion: try row.decode(4), workerID: try row.decode(5),
                                                decidedAt: try row.decode(6), duplicateOf: try row.decode(7),
                                                duplicateSimilarity: try row.decode(8))
        }

        let events = try db.query("""
            SELECT id, at, from_status, to_status, from_department, to_department, actor, note
            FROM complaint_events WHERE complaint_id = $1 ORDER BY id
            """, [id]).rows.map { row throws(PostgresError) in
            ComplaintDetail.Event(id: try row.decode(0), at: try row.decode(1), fromStatus: try row.decode(2),
                                  toStatus: try row.decode(3), fromDepartment: try row.decode(4),
                                  toDepartment: try row.decode(5), actor: try row.decode(6), note: try row.decode(7))
        }

        let notifications = try db.query("""
            SELECT id, event_id, recipient_kind, recipient, template, language, status, attempts, created_at,
                   sent_at, last_error
            FROM notifications WHERE complaint_id = $1 ORDER BY id
            """, [id]).rows.map { row throws(PostgresError) in
            ComplaintDetail.Notification(id: try row.decode(0), eventID: try row.decode(1), recipientKind: try row.decode(2),
                                         recipient: try row.decode(3), template: try row.decode(4),
                                         language: try row.decode(5), status: try row.decode(6),
                                         attempts: try row.decode(7), createdAt: try row.decode(8),
                                         sentAt: try row.decode(9), lastError: try row.decode(10))
        }
        return ComplaintDetail(complaint: complaint, attachments: attachments, decision: decision, events: events,
                               notifications: notifications)
    }

    /// The text of a published rules version, to rebuild a decision's full explanation.
    public static func rulesSource(version: String, on db: PostgresConnection) throws(PostgresError) -> String? {
        let result = try db.query("""
            SELECT source FROM rules_publications WHERE version = $1 ORDER BY id DESC LIMIT 1
            """, [version])
        return result.count > 0 ? try result[0].decode(0, as: String.self) : nil
    }
}
