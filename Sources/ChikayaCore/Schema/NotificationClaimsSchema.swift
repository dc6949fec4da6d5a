/// Migration 12 (10 and 11 were taken first; 9 stays unused): a notification counts the
/// claims that ended without an outcome apart from its attempts.
///
/// `attempts` counts every claim and drives the back-off. Capping it (`notifier.max_attempts`)
/// meant that a relay refusing with 4xx for a few hours failed notifications long before
/// `notifier.max_age_seconds`, although every one of those claims recorded its retry. The cap is
/// meant for a notification whose sender dies before recording anything, again and again; so a
/// claim adds one to `unanswered_claims` and recording an outcome takes it back. Existing rows
/// start at 0: their past claims cannot be told apart any more, and forgiving them costs at
/// most `max_attempts` more tries. The notifier updates the column; admin and readonly read it
/// like `attempts` (a count, nothing personal).
enum NotificationClaimsSchema {
    static let migration = Migration(version: 12, name: "notification_unanswered_claims", sql: sql)

    private static let sql = """
    ALTER TABLE notifications ADD COLUMN unanswered_claims integer NOT NULL DEFAULT 0;
    GRANT UPDATE (unanswered_claims) ON notifications TO chikaya_notifier;
    GRANT SELECT (unanswered_claims) ON notifications TO chikaya_admin, chikaya_readonly;
    """
}
