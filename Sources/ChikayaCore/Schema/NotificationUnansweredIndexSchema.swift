/// Migration 20: the notifier's claim finds the notifications claimed too often without reading
/// the whole backlog.
///
/// Each claim first fails for good the due notifications claimed `notifier.max_attempts` times
/// without an outcome. Only `notifications_due` could serve that search, in the order of the due
/// ones, so a claim that found none (the usual case) read every due notification: 15.7 ms a claim
/// of 100 with 50,000 waiting (a seq scan of all of them), on every claim while a backlog drains,
/// as after a relay outage, when sending matters most. A notification has unanswered claims only
/// while a sender holds it or after a sender died holding it, so this index holds a handful of
/// rows; a claim adds one entry to it, a recorded outcome none.
enum NotificationUnansweredIndexSchema {
    static let migration = Migration(version: 20, name: "notification_unanswered_index", sql: sql)

    private static let sql = """
    CREATE INDEX notifications_unanswered ON notifications (next_attempt_at)
        WHERE status = 'pending' AND unanswered_claims > 0;
    """
}
