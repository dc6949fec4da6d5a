import Foundation
import Postgres
import Routing

/// A notification claimed for sending, with what its email needs.
public struct ClaimedNotification: Sendable {
    public let id: Int64
    public let recipientKind: String
    public let recipient: String
    public let template: String
    public let language: String?
    public let attempts: Int
    public let createdAt: Date
    public let reference: String
    public let complaintID: Int64
    /// The status the event moved the complaint to (the complaint's own for a note): what the
    /// citizen's email announces. Not the notification's own status.
    public let eventStatus: String
    public let departmentCode: String?
    public let departmentNameFR: String?
    public let departmentNameAR: String?
    public let note: String?
    /// Set for what `mail-in` tells the city (`inbound_notices`): an answer or a bounce alert.
    public var noticeID: Int64? = nil
}

/// Counts and recent failures for `chikaya notifications status`.
public struct NotificationSummary: Sendable {
    /// One notification that failed for good, with the error that ended it.
    public struct Failure: Sendable {
        public let id: Int64
        public let reference: String
        public let recipientKind: String
        public let at: Date
        public let error: String
    }
    public let counts: [(kind: String, pending: Int, sent: Int, failed: Int)]
    /// Per recipient kind: returned by a mail system, and never sent to a suppressed address.
    public var returned: [(kind: String, bounced: Int, suppressed: Int)] = []
    public let oldestPendingSeconds: Double?
    public let recentFailures: [Failure]
}

/// All SQL of the `notifications` outbox.
///
/// Sending happens outside any transaction: a claim commits a lease (`leased_by`,
/// `next_attempt_at` pushed past the lease), the email is sent, and the outcome is recorded by
/// the lease holder. Once `sent` is recorded the row is never claimed again, so a recorded success
/// is never sent twice. The one window left, a crash after the server's 250 and before the
/// record, can repeat a message; it keeps its Message-ID, so mail clients can fold the copy.
///
/// Each `mark...` returns false when the row was no longer held by `sender` (its lease ran out
/// and another sender claimed it, or it was settled): nothing is written then, and the caller
/// must say so in its log rather than carry on as if the outcome were recorded.
public enum NotificationStore {
    /// The claim's statement: $1 the limit, $2 the sender, $3 the lease in seconds, $4 the cap on
    /// unanswered claims. tests: NotificationClaimPlanIntegrationTests.
    static let claimSQL = """
        WITH exhausted AS (
            UPDATE notifications n
            SET status = 'failed',
                last_error = coalesce(n.last_error || '; ', '') || 'no outcome recorded after ' || n.unanswered_claims || ' attempts'
            -- `unanswered_claims > 0` (implied: the cap is at least 1) is the predicate of
            -- `notifications_unanswered`, written out so that the planner can use that index
            -- instead of reading every due notification. By the ids, an index lookup each.
            WHERE n.id = ANY (ARRAY(SELECT id FROM notifications
                                    WHERE status = 'pending' AND unanswered_claims > 0 AND next_attempt_at <= now()
                                      AND unanswered_claims >= $4
                                    LIMIT 100 FOR UPDATE SKIP LOCKED))
            RETURNING n.id
        ), due AS (
            SELECT id FROM notifications
            WHERE status = 'pending' AND next_attempt_at <= now() AND unanswered_claims < $4
            ORDER BY next_attempt_at, id
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE notifications n
            SET attempts = n.attempts + 1, unanswered_claims = n.unanswered_claims + 1, leased_by = $2,
                next_attempt_at = now() + make_interval(secs => $3::float8)
            FROM due WHERE n.id = due.id
            RETURNING n.*
        )
        SELECT n.id, n.recipient_kind, n.recipient, n.template, n.language, n.attempts, n.created_at,
               c.reference, c.id AS complaint_id, coalesce(e.to_status, c.status) AS event_status,
               coalesce(e.to_department, c.department) AS department, d.name_fr, d.name_ar,
               coalesce(e.note, cn.body) AS note, n.notice_id
        FROM claimed n
        JOIN complaints c ON c.id = n.complaint_id
        -- A status event, or (a citizen's reply forwarded to the office) a note.
        LEFT JOIN complaint_events e ON e.id = n.event_id
        LEFT JOIN complaint_notes cn ON cn.id = n.note_id
        LEFT JOIN departments d ON d.code = coalesce(e.to_department, c.department)
        ORDER BY n.id
        """

    /// Claims due notifications. One claimed `maxAttempts` times without an outcome being
    /// recorded (its sender died or failed before recording, again and again) fails for good
    /// instead of being retried forever; claims that recorded a retry do not count, so a relay
    /// outage is bounded by the notification's age alone. `maxAttempts` is at least 1
    /// (`notifier.max_attempts` is checked so): the claim's search relies on it.
    public static func claim(on db: PostgresConnection, limit: Int, sender: String,
                             leaseSeconds: Double, maxAttempts: Int = 20) throws(PostgresError) -> [ClaimedNotification] {
        precondition(maxAttempts >= 1, "a cap of unanswered claims below 1 would fail every notification")
        let result = try db.query(claimSQL, [limit, sender, leaseSeconds, maxAttempts])
        return try result.rows.map { row throws(PostgresError) in
            ClaimedNotification(id: try row.decode("id"), recipientKind: try row.decode("recipient_kind"),
                                recipient: try row.decode("recipient"), template: try row.decode("template"),
                                language: try row.decode("language"), attempts: try row.decode("attempts"),
                                createdAt: try row.decode("created_at"), reference: try row.decode("reference"),
                                complaintID: try row.decode("complaint_id"), eventStatus: try row.decode("event_status"),
                                departmentCode: try row.decode("department"), departmentNameFR: try row.decode("name_fr"),
                                departmentNameAR: try row.decode("name_ar"), note: try row.decode("note"),
                                noticeID: try row.decode("notice_id"))
        }
    }

    /// Extends the leases of a claimed group in one statement: the ids still held by `sender`,
    /// their leases now running `leaseSeconds` from now. The others are no longer ours (the lease
    /// ran out and another sender claimed them, or they were settled).
    public static func renewLeases(ids: [Int64], sender: String, leaseSeconds: Double,
                                   on db: PostgresConnection) throws(PostgresError) -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let rows = try db.query("""
            UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $3::float8)
            WHERE id = ANY($1::bigint[]) AND leased_by = $2 AND status = 'pending'
            RETURNING id
            """, [PostgresArray(ids), sender, leaseSeconds]).rows
        var held = Set<Int64>(minimumCapacity: rows.count)
        for row in rows { held.insert(try row.decode(0)) }
        return held
    }


    /// Gives claimed, unsent notifications back to the outbox at once (a stopping sender);
    /// the claim's attempt is not counted.
    public static func release(ids: [Int64], sender: String, on db: PostgresConnection) throws(PostgresError) {
        guard !ids.isEmpty else { return }
        try db.query("""
            UPDATE notifications
            SET leased_by = NULL, next_attempt_at = now(), attempts = greatest(attempts - 1, 0),
                unanswered_claims = greatest(unanswered_claims - 1, 0)
            WHERE id = ANY($1::bigint[]) AND leased_by = $2 AND status = 'pending'
            """, [PostgresArray(ids), sender])
    }

    /// Gives back every notification `sender` still holds, as `release` does: rows claimed whose
    /// outcome was never recorded (an outcome clears the hold). For a sender whose database
    /// connection broke in the middle of a batch, once it is back: what it did not send goes out
    /// at once instead of waiting for a lease taken for the slowest possible send. Returns how
    /// many rows went back.
    @discardableResult
    public static func releaseHeld(by sender: String, on db: PostgresConnection) throws(PostgresError) -> Int {
        try db.query("""
            UPDATE notifications
            SET leased_by = NULL, next_attempt_at = now(), attempts = greatest(attempts - 1, 0),
                unanswered_claims = greatest(unanswered_claims - 1, 0)
            WHERE leased_by = $1 AND status = 'pending'
            RETURNING id
            """, [sender]).count
    }

    /// A message the relay took, to record with `markSent(_:sender:on:)`.
    public struct Sent: Sendable {
        public let id: Int64
        public let messageID: String
        public let reply: String
        public init(id: Int64, messageID: String, reply: String) {
            self.id = id
            self.messageID = messageID
            self.reply = reply
        }
    }

    /// Records that the relay took a group's messages, in one statement (one UPDATE a message was
    /// the notifier's largest database cost): the ids recorded; any other was no longer held by
    /// `sender`.
    public static func markSent(_ sends: [Sent], sender: String, on db: PostgresConnection) throws(PostgresError) -> Set<Int64> {
        guard !sends.isEmpty else { return [] }
        var ids = PostgresArray(capacity: sends.count * 8)
        var messageIDs = PostgresArray(capacity: sends.count * 40)
        var replies = PostgresArray(capacity: sends.count * 40)
        for sent in sends {
            ids.append(sent.id)
            messageIDs.append(sent.messageID)
            replies.append(String(sent.reply.prefix(1_000)))
        }
        // No join with the group's values: planned for the one row a sender's name is estimated
        // to match, the join read every value once per row (a nested loop, 9,900 rows compared
        // and half of the statement's time for a group of 100). Each row takes its values by its
        // position among the ids instead, and the rows are reached by their ids. Finding a
        // position scans the ids, so this grows with the square of the group: both lookups for
        // every row cost 0.8 ms for 100 ids and 14 ms for 1,000, `notifier.batch`'s largest.
        let rows = try db.query("""
            UPDATE notifications n
            SET status = 'sent', sent_at = now(), message_id = ($2::text[])[array_position($1::bigint[], n.id)],
                last_reply = ($3::text[])[array_position($1::bigint[], n.id)], last_error = NULL,
                unanswered_claims = greatest(n.unanswered_claims - 1, 0)
            WHERE n.id = ANY ($1::bigint[]) AND n.leased_by = $4 AND n.status = 'pending'
            RETURNING n.id
            """, [ids, messageIDs, replies, sender]).rows
        var recorded = Set<Int64>(minimumCapacity: rows.count)
        for row in rows { recorded.insert(try row.decode(0)) }
        return recorded
    }

    /// What `markRetry` recorded.
    public enum RetryOutcome: Sendable, Equatable {
        /// Pending again, due after the delay.
        case willRetry
        /// Older than the maximum age: failed for good.
        case expired
        /// Not recorded: `sender` no longer held the notification.
        case leaseLost
    }

    /// A transient failure: retry after `retryAfter` seconds, unless the notification is older
    /// than `maxAge` seconds, in which case it fails for good. The claim got an outcome, so it
    /// does not count toward the cap on unanswered claims, and the row is no longer held by
    /// `sender` (`releaseHeld` must not bring a retry forward).
    public static func markRetry(id: Int64, error: String, reply: String?, retryAfter: Double, maxAge: Double,
                                 sender: String, on db: PostgresConnection) throws(PostgresError) -> RetryOutcome {
        let row = try db.query("""
            UPDATE notifications
            SET last_error = $2, last_reply = coalesce($3, last_reply), leased_by = NULL,
                next_attempt_at = now() + make_interval(secs => $4::float8),
                unanswered_claims = greatest(unanswered_claims - 1, 0),
                status = CASE WHEN created_at + make_interval(secs => $5::float8) < now() THEN 'failed' ELSE 'pending' END
            WHERE id = $1 AND leased_by = $6 AND status = 'pending'
            RETURNING status = 'failed'
            """, [id, String(error.prefix(1_000)), reply.map { String($0.prefix(1_000)) }, retryAfter, maxAge, sender])
        guard row.count > 0 else { return .leaseLost }
        return try row[0].decode(0, as: Bool.self) ? .expired : .willRetry
    }

    /// A permanent failure; false when `sender` no longer held the notification.
    @discardableResult
    public static func markFailed(id: Int64, error: String, reply: String?, sender: String,
                                  on db: PostgresConnection) throws(PostgresError) -> Bool {
        try db.query("""
            UPDATE notifications
            SET status = 'failed', last_error = $2, last_reply = coalesce($3, last_reply),
                unanswered_claims = greatest(unanswered_claims - 1, 0)
            WHERE id = $1 AND leased_by = $4 AND status = 'pending'
            RETURNING id
            """, [id, String(error.prefix(1_000)), reply.map { String($0.prefix(1_000)) }, sender]).count == 1
    }

    /// True while a notification is due now or held by a sender's lease.
    public static func hasDue(on db: PostgresConnection) throws(PostgresError) -> Bool {
        try db.query("""
            SELECT EXISTS (SELECT 1 FROM notifications WHERE status = 'pending' AND next_attempt_at <= now())
            """).single().decode(0)
    }

    public static func summary(on db: PostgresConnection, failures: Int) throws(PostgresError) -> NotificationSummary {
        let counts = try db.query("""
            SELECT recipient_kind,
                   count(*) FILTER (WHERE status = 'pending') AS pending,
                   count(*) FILTER (WHERE status = 'sent') AS sent,
                   count(*) FILTER (WHERE status = 'failed') AS failed
            FROM notifications GROUP BY recipient_kind ORDER BY recipient_kind
            """).rows.map { row throws(PostgresError) in
                (kind: try row.decode("recipient_kind", as: String.self), pending: try row.decode("pending", as: Int.self),
                 sent: try row.decode("sent", as: Int.self), failed: try row.decode("failed", as: Int.self))
            }
        let oldest: Double? = try db.query("""
            SELECT extract(epoch FROM now() - min(created_at))::float8 FROM notifications WHERE status = 'pending'
            """).single().decode(0)
        let recent = try db.query("""
            SELECT n.id, c.reference, n.recipient_kind, n.created_at, coalesce(n.last_reply, n.last_error, '') AS error
            FROM notifications n JOIN complaints c ON c.id = n.complaint_id
            WHERE n.status = 'failed'
            ORDER BY n.id DESC LIMIT $1
            """, [failures]).rows.map { row throws(PostgresError) in
                NotificationSummary.Failure(id: try row.decode("id"), reference: try row.decode("reference"),
                                            recipientKind: try row.decode("recipient_kind"), at: try row.decode("created_at"),
                                            error: try row.decode("error"))
            }
        var summary = NotificationSummary(counts: counts, oldestPendingSeconds: oldest, recentFailures: recent)
        summary.returned = try db.query("""
            SELECT recipient_kind, count(*) FILTER (WHERE status = 'bounced') AS bounced,
                   count(*) FILTER (WHERE status = 'suppressed') AS suppressed
            FROM notifications WHERE status IN ('bounced', 'suppressed') GROUP BY recipient_kind ORDER BY recipient_kind
            """).rows.map { row throws(PostgresError) in
                (kind: try row.decode("recipient_kind", as: String.self), bounced: try row.decode("bounced", as: Int.self),
                 suppressed: try row.decode("suppressed", as: Int.self))
            }
        return summary
    }
}
