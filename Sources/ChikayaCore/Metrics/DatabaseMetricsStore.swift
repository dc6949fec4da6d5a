import Postgres

/// The database-wide figures of `chikaya metrics`, as the database holds them now.
public struct DatabaseFigures: Sendable {
    /// One state of the routing queue: `pending` (due), `leased` (claimed by a worker), `dead`.
    public struct QueueState: Sendable {
        public let state: String
        public let entries: Int
        /// Since the oldest entry in this state was enqueued; nil when there is none.
        public let oldestSeconds: Double?
    }

    /// Notifications of one status and recipient kind.
    public struct OutboxCount: Sendable {
        public let status: String
        public let recipient: String
        public let count: Int
        /// For `pending` only: the oldest one's age.
        public let oldestSeconds: Double?
    }

    /// Complaints of one status and department (`none` before routing).
    public struct ComplaintCount: Sendable {
        public let status: String
        public let department: String
        public let count: Int
    }

    public let queue: [QueueState]
    public let outbox: [OutboxCount]
    public let complaints: [ComplaintCount]
    /// Open complaints past a deadline, per department.
    public let late: [String: Int]
    public let officesWithoutAddress: Int
    public let deliveriesWaiting: Int
    /// Office addresses that bounce; nil while the schema does not record bounces.
    public let officesBouncing: Int?
    public let schemaVersion: Int
    /// When the rules in force were published (seconds since the epoch); nil when none are.
    public let rulesPublishedAt: Double?
}

/// The read-only SQL of `chikaya metrics`: counts and ages over the queue, the outbox and the
/// complaints. Each statement is an aggregate; none reads a personal column.
public enum DatabaseMetricsStore {
    public static func figures(on db: PostgresConnection) throws(PostgresError) -> DatabaseFigures {
        let queue = try db.query("""
            WITH entries AS (
                SELECT CASE WHEN state = 'dead' THEN 'dead'
                            WHEN leased_by IS NOT NULL AND available_at > now() THEN 'leased'
                            ELSE 'pending' END AS state,
                       enqueued_at
                FROM routing_queue
            )
            SELECT s.state, count(e.state) AS entries, extract(epoch FROM now() - min(e.enqueued_at))::float8 AS oldest_seconds
            FROM (VALUES ('pending'), ('leased'), ('dead')) AS s (state)
            LEFT JOIN entries e ON e.state = s.state
            GROUP BY s.state ORDER BY s.state
            """).rows.map { row throws(PostgresError) in
                DatabaseFigures.QueueState(state: try row.decode("state"), entries: try row.decode("entries"),
                                           oldestSeconds: try row.decode("oldest_seconds"))
            }
        let outbox = try db.query("""
            SELECT status, recipient_kind, count(*) AS notifications,
                   CASE WHEN status = 'pending' THEN extract(epoch FROM now() - min(created_at))::float8 END AS oldest_seconds
            FROM notifications GROUP BY status, recipient_kind ORDER BY status, recipient_kind
            """).rows.map { row throws(PostgresError) in
                DatabaseFigures.OutboxCount(status: try row.decode("status"),
                                            recipient: try row.decode("recipient_kind"),
                                            count: try row.decode("notifications"),
                                            oldestSeconds: try row.decode("oldest_seconds"))
            }
        let complaints = try db.query("""
            SELECT status, coalesce(department, 'none') AS department, count(*) AS complaints FROM complaints
            GROUP BY 1, 2 ORDER BY 1, 2
            """).rows.map { row throws(PostgresError) in
                DatabaseFigures.ComplaintCount(status: try row.decode("status"),
                                               department: try row.decode("department"),
                                               count: try row.decode("complaints"))
            }
        var late: [String: Int] = [:]
        for row in try db.query("SELECT department, count(DISTINCT complaint_id) AS late FROM late_complaints GROUP BY 1").rows {
            late[try row.decode("department", as: String.self)] = try row.decode("late", as: Int.self)
        }
        let totals = try db.query("""
            SELECT (SELECT count(*) FROM departments d
                    WHERE NOT EXISTS (SELECT 1 FROM department_contacts c
                                      WHERE c.department = d.code AND c.arrondissement IS NULL)) AS offices_without_address,
                   (SELECT count(*) FROM department_deliveries_waiting) AS deliveries_waiting,
                   (SELECT coalesce(max(version), 0) FROM schema_migrations) AS schema_version,
                   (SELECT extract(epoch FROM published_at)::float8 FROM rules_publications ORDER BY id DESC LIMIT 1)
                       AS rules_published_at
            """).single()
        let bounces = try HealthStore.officeBounces(on: db)
        return DatabaseFigures(queue: queue, outbox: outbox, complaints: complaints, late: late,
                               officesWithoutAddress: try totals.decode("offices_without_address"),
                               deliveriesWaiting: try totals.decode("deliveries_waiting"),
                               officesBouncing: bounces.tracked ? bounces.offices.count : nil,
                               schemaVersion: try totals.decode("schema_version"), rulesPublishedAt: try totals.decode("rules_published_at"))
    }
}
