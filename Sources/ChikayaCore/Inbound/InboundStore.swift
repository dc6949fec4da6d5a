import Foundation
import Postgres

/// The notification a signed bounce or unsubscribe address names.
public struct InboundNotificationTarget: Sendable {
    public let id: Int64
    public let recipient: String
    public let recipientKind: String
    public let complaintID: Int64
    public let reference: String
    public let department: String?
}

/// The complaint a signed reply address names, with who may act on it by mail.
public struct InboundReplyTarget: Sendable {
    public let complaintID: Int64
    public let reference: String
    public let department: String?
    public let citizenEmail: String?
    public let status: String
    /// Lower-cased: the department's office addresses (every arrondissement) and its Reply-To.
    public let officeAddresses: Set<String>
}

/// What a bounce did to its address.
public struct BounceOutcome: Sendable {
    public let address: String
    /// True when the address is (now) on the suppression list.
    public let suppressed: Bool
    public let reason: String?
    public let recipientKind: String
    /// True the first time an office address is suppressed: the triage cell must hear of it once.
    public let officeNewlySuppressed: Bool
}

/// A row of `chikaya suppressions list`.
public struct SuppressedAddress: Sendable {
    public let address: String
    public let reason: String
    public let status: String?
    public let bounceCount: Int
    public let recipientKind: String?
    public let lastBounceAt: Date?
    public let suppressedAt: Date
}

/// An office address that bounced, for `departments check` and `stats`.
public struct BouncedOffice: Sendable {
    public let department: String
    public let arrondissement: String?
    public let address: String
    public let status: String?
    public let lastBounceAt: Date?
}

/// What `mail-in` tells the city by mail: an office's command accepted or refused, or an office
/// address that bounces (`inbound_notices`). No citizen data: reference, office, codes.
public struct InboundNotice: Sendable {
    /// `command_accepted`, `command_refused` or `office_bounced`.
    public let kind: String
    public let reference: String
    public let office: String
    public let department: String?
    public let departmentNameFR: String?
    public let departmentNameAR: String?
    public let arrondissementFR: String?
    public let arrondissementAR: String?
    public let command: String?
    public let reason: String?
    public let detail: String?
    public let inReplyTo: String?
}

/// All SQL of inbound mail: bounces, suppressions, notes and the record of what came in.
public enum InboundStore {
    /// Transient bounces within this window that suppress an address like a permanent one.
    public static let transientLimit = 3
    public static let transientWindowDays = 7

    public static func notification(id: Int64, on db: PostgresConnection) throws(PostgresError) -> InboundNotificationTarget? {
        try notification(sql: "n.id = $1", id, on: db)
    }

    /// The notification whose Message-ID a bounce returned (for bounces that reached `mail_from`
    /// instead of the signed return path).
    public static func notification(messageID: String, on db: PostgresConnection) throws(PostgresError) -> InboundNotificationTarget? {
        try notification(sql: "n.message_id = $1", messageID, on: db)
    }

    private static func notification(sql condition: String, _ value: any PostgresBindable,
                                     on db: PostgresConnection) throws(PostgresError) -> InboundNotificationTarget? {
        let result = try db.query("""
            SELECT n.id AS notification_id, n.recipient, n.recipient_kind, c.id AS complaint_id, c.reference, c.department
            FROM notifications n JOIN complaints c ON c.id = n.complaint_id
            WHERE \(condition)
            ORDER BY n.id LIMIT 1
            """, [value])
        guard result.count > 0 else { return nil }
        let row = result[0]
        return InboundNotificationTarget(id: try row.decode("notification_id"), recipient: try row.decode("recipient"),
                                         recipientKind: try row.decode("recipient_kind"),
                                         complaintID: try row.decode("complaint_id"),
                                         reference: try row.decode("reference"),
                                         department: try row.decode("department"))
    }

    public static func replyTarget(reference: String, on db: PostgresConnection) throws(PostgresError) -> InboundReplyTarget? {
        let result = try db.query("""
            SELECT c.id AS complaint_id, c.reference, c.department, c.citizen_email,
                   ARRAY(SELECT lower(email) FROM department_contacts WHERE department = c.department
                         UNION SELECT lower(reply_to) FROM departments WHERE code = c.department AND reply_to IS NOT NULL)::text
                       AS office_addresses,
                   c.status
            FROM complaints c WHERE c.reference = $1
            """, [reference])
        guard result.count > 0 else { return nil }
        let row = result[0]
        let array: String = try row.decode("office_addresses")
        let addresses = array.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",")
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }.filter { !$0.isEmpty }
        return InboundReplyTarget(complaintID: try row.decode("complaint_id"), reference: try row.decode("reference"),
                                  department: try row.decode("department"), citizenEmail: try row.decode("citizen_email"),
                                  status: try row.decode("status"), officeAddresses: Set(addresses))
    }

    /// Records one bounce for a notification's address, in one transaction: a permanent one marks
    /// the notification `bounced` and suppresses the address; a transient one counts, and the
    /// `transientLimit`-th within `transientWindowDays` suppresses too. Pending notifications to a
    /// newly suppressed address become `suppressed`.
    public static func recordBounce(notification: InboundNotificationTarget, status: String, permanent: Bool,
                                    diagnostic: String?, on db: PostgresConnection) throws(PostgresError) -> BounceOutcome {
        let address = notification.recipient.lowercased()
        let diagnostic = diagnostic.map { String($0.prefix(1_000)) }
        return try inTransaction(db) { db throws(PostgresError) in
            if permanent {
                try db.query("""
                    UPDATE notifications SET status = 'bounced', bounce_status = $2, bounce_diagnostic = $3, bounced_at = now()
                    WHERE id = $1 AND status IN ('sent', 'pending', 'failed')
                    """, [notification.id, status, diagnostic])
            } else {
                try db.query("UPDATE notifications SET bounce_status = $2, bounce_diagnostic = $3 WHERE id = $1",
                             [notification.id, status, diagnostic])
            }
            try db.query("""
                INSERT INTO address_bounces (address, notification_id, status, permanent, diagnostic) VALUES ($1, $2, $3, $4, $5)
                """, [address, notification.id, status, permanent, diagnostic])
            let transient: Int = try db.query("""
                SELECT count(*)::int FROM address_bounces
                WHERE address = $1 AND NOT permanent AND at > now() - make_interval(days => $2)
                """, [address, transientWindowDays]).single().decode(0)
            let stats = try db.query("""
                SELECT min(at) AS first_at, max(at) AS last_at, count(*)::int AS bounces FROM address_bounces WHERE address = $1
                """, [address]).single()
            let first: Date? = try stats.decode("first_at"), last: Date? = try stats.decode("last_at")
            let count: Int = try stats.decode("bounces")
            let reason: String? = permanent ? "bounce" : (transient >= transientLimit ? "transient_bounces" : nil)
            var newlySuppressed = false
            if let reason {
                let inserted = try db.query("""
                    INSERT INTO suppressed_addresses (address, reason, status, diagnostic, first_bounce_at, last_bounce_at,
                                                      bounce_count, recipient_kind)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    ON CONFLICT (address) DO UPDATE SET
                        status = EXCLUDED.status, diagnostic = EXCLUDED.diagnostic,
                        first_bounce_at = coalesce(suppressed_addresses.first_bounce_at, EXCLUDED.first_bounce_at),
                        last_bounce_at = EXCLUDED.last_bounce_at, bounce_count = EXCLUDED.bounce_count
                    RETURNING (xmax = 0)
                    """, [address, reason, status, diagnostic, first, last, count, notification.recipientKind])
                newlySuppressed = try inserted.single().decode(0)
                try suppressPending(address: address, reason: reason, on: db)
            } else {
                // Not suppressed (yet): keep the counts of an existing entry current.
                try db.query("""
                    UPDATE suppressed_addresses SET last_bounce_at = $2, bounce_count = $3 WHERE address = $1
                    """, [address, last, count])
            }
            let suppressed: Bool = try db.query("SELECT EXISTS (SELECT 1 FROM suppressed_addresses WHERE address = $1)",
                                                [address]).single().decode(0)
            return BounceOutcome(address: address, suppressed: suppressed, reason: reason, recipientKind: notification.recipientKind,
                                 officeNewlySuppressed: newlySuppressed && notification.recipientKind == "department")
        }
    }

    /// Puts an address on the suppression list (unsubscribe, manual); true when it was not there.
    @discardableResult
    public static func suppress(address: String, reason: String, recipientKind: String?,
                                on db: PostgresConnection) throws(PostgresError) -> Bool {
        try inTransaction(db) { db throws(PostgresError) in
            let inserted = try db.query("""
                INSERT INTO suppressed_addresses (address, reason, recipient_kind) VALUES (lower($1), $2, $3)
                ON CONFLICT (address) DO NOTHING RETURNING address
                """, [address, reason, recipientKind]).count == 1
            try suppressPending(address: address.lowercased(), reason: reason, on: db)
            return inserted
        }
    }

    private static func suppressPending(address: String, reason: String, on db: PostgresConnection) throws(PostgresError) {
        try db.query("""
            UPDATE notifications SET status = 'suppressed', last_error = 'address suppressed (' || $2 || ')'
            WHERE lower(recipient) = $1 AND status = 'pending'
            """, [address, reason])
    }

    /// Takes an address off the list; its bounce history stays. False when it was not listed.
    /// (Through `suppression_remove`: administrators may not read the list's citizen addresses.)
    public static func unsuppress(address: String, on db: PostgresConnection) throws(PostgresError) -> Bool {
        try db.query("SELECT suppression_remove($1)", [address]).single().decode(0)
    }

    /// Newest first; citizens' addresses masked (`suppressions_list`), offices' in full.
    public static func suppressions(limit: Int, on db: PostgresConnection) throws(PostgresError) -> [SuppressedAddress] {
        try db.query("""
            SELECT address, reason, status, bounce_count, recipient_kind, last_bounce_at, suppressed_at
            FROM suppressions_list($1)
            """, [limit]).rows.map { row throws(PostgresError) in
            SuppressedAddress(address: try row.decode("address"), reason: try row.decode("reason"),
                              status: try row.decode("status"), bounceCount: try row.decode("bounce_count"),
                              recipientKind: try row.decode("recipient_kind"),
                              lastBounceAt: try row.decode("last_bounce_at"),
                              suppressedAt: try row.decode("suppressed_at"))
        }
    }

    /// Office addresses on the suppression list: their complaints reach nobody.
    public static func bouncedOffices(on db: PostgresConnection) throws(PostgresError) -> [BouncedOffice] {
        try db.query("""
            SELECT department, arrondissement, email, status, last_bounce_at FROM bounced_offices()
            """).rows.map { row throws(PostgresError) in
            BouncedOffice(department: try row.decode("department"), arrondissement: try row.decode("arrondissement"),
                          address: try row.decode("email"), status: try row.decode("status"),
                          lastBounceAt: try row.decode("last_bounce_at"))
        }
    }

    /// What an office's command did; `eventID` nil when nothing changed.
    public struct OfficeChange: Sendable {
        public let fromStatus: String
        public let toStatus: String
        public let fromDepartment: String?
        public let toDepartment: String?
        public let eventID: Int64?
    }

    /// Moves the complaint as `office` (`inbound_office_command` checks that it is an address of
    /// the complaint's department and records it as the actor). `status` or `department`.
    public static func officeCommand(reference: String, office: String, status: String?, department: String?, note: String?,
                                     on db: PostgresConnection) throws(LifecycleError) -> OfficeChange {
        if let department {
            let known: Bool
            do {
                known = try db.query("SELECT EXISTS (SELECT 1 FROM departments WHERE code = $1)", [department]).single().decode(0)
            } catch { throw .database(error) }
            guard known else { throw .unknownDepartment(department) }
        }
        do {
            let result = try db.query("""
                SELECT old_status, new_status, old_department, new_department, event_id
                FROM inbound_office_command($1, $2, $3, $4, $5)
                """, [reference, office, status, department, note])
            guard result.count > 0 else { throw LifecycleError.unknownReference(reference) }
            let row = result[0]
            return OfficeChange(fromStatus: try row.decode("old_status"), toStatus: try row.decode("new_status"),
                                fromDepartment: try row.decode("old_department"),
                                toDepartment: try row.decode("new_department"), eventID: try row.decode("event_id"))
        } catch let error as LifecycleError {
            throw error
        } catch let error as PostgresError {
            // 23514: the transition check said no; 42501: not an address of that department.
            if error.sqlState == SQLState.checkViolation || error.sqlState == "42501" {
                throw .refused(message: error.message, hint: error.hint)
            }
            throw .database(error)
        } catch {
            throw .database(PostgresError(code: .server, message: "\(error)"))
        }
    }

    /// Records a citizen's reply as a note and queues it for the office (`inbound_citizen_note`
    /// checks that the sender is the complaint's citizen).
    public static func citizenNote(reference: String, citizen: String, body: String,
                                   on db: PostgresConnection) throws(PostgresError) -> (noteID: Int64, forwarded: Bool) {
        let row = try db.query("SELECT note_id, forwarded FROM inbound_citizen_note($1, $2, $3)",
                               [reference, citizen, body]).single()
        return (try row.decode("note_id"), try row.decode("forwarded"))
    }

    /// `PostgresConnection.transaction` with the error type kept.
    private static func inTransaction<T>(_ db: PostgresConnection,
                                         _ body: (PostgresConnection) throws(PostgresError) -> T) throws(PostgresError) -> T {
        do {
            return try db.transaction { db in try body(db) }
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError(code: .server, message: "\(error)")
        }
    }

    /// Queues the answer to an office's command (`inbound_office_answer` checks that the address
    /// is the city's office for that complaint, and caps the answers: nil when none was queued).
    public static func answerOffice(reference: String, office: String, accepted: Bool, command: String, reason: String?,
                                    detail: String?, inReplyTo: String?, on db: PostgresConnection) throws(PostgresError) -> Int64? {
        try db.query("SELECT inbound_office_answer($1, $2, $3, $4, $5, $6, $7) AS notification",
                     [reference, office, accepted, command, reason, detail, inReplyTo]).single().decode("notification")
    }

    /// Queues the alert that an office address bounces, once per suppression
    /// (`office_bounce_alert`); nil when it was told already or nobody can be told.
    public static func alertBouncedOffice(address: String, notificationID: Int64, admin: String?,
                                          on db: PostgresConnection) throws(PostgresError) -> Int64? {
        try db.query("SELECT office_bounce_alert($1, $2, $3) AS notification", [address, notificationID, admin])
            .single().decode("notification")
    }

    /// What a notice notification tells (`inbound_notices`), with the names its email needs.
    public static func notice(notificationID: Int64, on db: PostgresConnection) throws(PostgresError) -> InboundNotice? {
        let result = try db.query("""
            SELECT i.kind, c.reference, i.office, i.department, d.name_fr AS department_fr, d.name_ar AS department_ar,
                   a.name_fr AS arrondissement_fr, a.name_ar AS arrondissement_ar, i.command, i.reason, i.detail, i.in_reply_to
            FROM notifications n
            JOIN inbound_notices i ON i.id = n.notice_id
            JOIN complaints c ON c.id = i.complaint_id
            LEFT JOIN departments d ON d.code = i.department
            LEFT JOIN arrondissements a ON a.code = (SELECT dc.arrondissement FROM department_contacts dc
                                                     WHERE lower(dc.email) = i.office AND dc.department = i.department
                                                     ORDER BY dc.arrondissement NULLS FIRST LIMIT 1)
            WHERE n.id = $1
            """, [notificationID])
        guard let row = result.rows.first else { return nil }
        return InboundNotice(kind: try row.decode("kind"), reference: try row.decode("reference"), office: try row.decode("office"),
                             department: try row.decode("department"), departmentNameFR: try row.decode("department_fr"),
                             departmentNameAR: try row.decode("department_ar"), arrondissementFR: try row.decode("arrondissement_fr"),
                             arrondissementAR: try row.decode("arrondissement_ar"), command: try row.decode("command"),
                             reason: try row.decode("reason"), detail: try row.decode("detail"), inReplyTo: try row.decode("in_reply_to"))
    }

    public static func record(kind: String, token: String, complaintID: Int64?, notificationID: Int64?, messageID: String?,
                              outcome: String, detail: String?, on db: PostgresConnection) throws(PostgresError) {
        try db.query("""
            INSERT INTO inbound_messages (kind, token, complaint_id, notification_id, message_id, outcome, detail)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """, [kind, token, complaintID, notificationID, messageID.map { String($0.prefix(300)) }, outcome,
                  detail.map { String($0.prefix(1_000)) }])
    }
}
