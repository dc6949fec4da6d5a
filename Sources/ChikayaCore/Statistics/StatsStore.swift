import Foundation
import Postgres

/// The figures of `chikaya stats` for one window of time.
public struct Stats: Sendable, Codable {
    /// One department's figures.
    public struct Department: Sendable, Codable {
        public let department: String
        /// Complaints of the window currently with this department.
        public let complaints: Int
        /// Complaints of the window the router sent here.
        public let routed: Int
        /// Of those, how many staff later moved to another department.
        public let reassignedByHand: Int
        /// `reassignedByHand / routed`, nil when nothing was routed here.
        public let reassignedShare: Double?
        /// Complaints whose first resolution, in the window, was in this department.
        public let resolved: Int
        /// Median seconds from submission to the first `resolved`.
        public let medianSecondsToResolved: Double?
        /// Open complaints past one of the department's deadlines, now (not windowed).
        public let late: Int
        /// False when the department has no default contact: its deliveries wait.
        public let hasContact: Bool
        /// Complaints of the window routed here that the router found probably repeat an earlier
        /// open one.
        public let duplicates: Int
    }

    /// One arrondissement's count ("none" for complaints without one).
    public struct Arrondissement: Sendable, Codable {
        public let arrondissement: String
        public let complaints: Int
        /// Open complaints of this arrondissement past a deadline, now.
        public let late: Int
    }

    public let sinceSeconds: Double
    public let received: Int
    public let routed: Int
    public let routedToTriage: Int
    /// `routedToTriage / routed`, nil when nothing was routed.
    public let triageShare: Double?
    public let reassignedByHand: Int
    public let reassignedShare: Double?
    public let latencyP50Seconds: Double?
    public let latencyP95Seconds: Double?
    public let queuePending: Int
    public let queueDead: Int
    public let queueOldestSeconds: Double?
    public let notificationsSent: Int
    public let notificationsPending: Int
    public let notificationsFailed: Int
    /// Open complaints past a deadline, now.
    public let late: Int
    /// Department deliveries waiting for a contact to be set.
    public let deliveriesWaiting: Int
    /// Complaints of the window linked to an earlier open complaint as a possible duplicate.
    public let duplicates: Int
    public let departments: [Department]
    public let arrondissements: [Arrondissement]
    /// Office addresses on the suppression list (`department/arrondissement address`): urgent,
    /// their complaints reach nobody.
    public var bouncingOffices: [String] = []
    /// Notifications a mail system returned, and those never sent to a suppressed address.
    public var notificationsBounced: Int = 0
    public var notificationsSuppressed: Int = 0
}

/// All SQL of `chikaya stats`.
///
/// The window is "complaints submitted in the last N seconds" for intake and routing figures,
/// "notifications created in it" for the outbox, and "first resolved in it" for resolution times;
/// the queue figures are the queue as it is now.
public enum StatsStore {
    public static func compute(sinceSeconds: Double, on db: PostgresConnection) throws(PostgresError) -> Stats {
        let corrected = AuditTrail.correctedByHand(complaintID: "c.id")
        let totals = try db.query("""
            WITH window_complaints AS (
                SELECT c.id, c.submitted_at, rd.department AS routed_to, rd.decided_at,
                       rd.complaint_id IS NOT NULL AND \(corrected) AS corrected
                FROM complaints c LEFT JOIN routing_decisions rd ON rd.complaint_id = c.id
                WHERE c.submitted_at >= now() - make_interval(secs => $1::float8)
            )
            SELECT count(*) AS received,
                   count(routed_to) AS routed,
                   count(*) FILTER (WHERE routed_to = 'triage') AS to_triage,
                   count(*) FILTER (WHERE corrected) AS reassigned,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at))
                       FILTER (WHERE routed_to IS NOT NULL) AS latency_p50,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - submitted_at))
                       FILTER (WHERE routed_to IS NOT NULL) AS latency_p95,
                   (SELECT count(*) FROM routing_queue WHERE state = 'pending') AS queue_pending,
                   (SELECT count(*) FROM routing_queue WHERE state = 'dead') AS queue_dead,
                   (SELECT extract(epoch FROM now() - min(enqueued_at))::float8 FROM routing_queue WHERE state = 'pending')
                       AS queue_oldest_seconds,
                   (SELECT count(*) FILTER (WHERE status = 'sent') FROM notifications
                    WHERE created_at >= now() - make_interval(secs => $1::float8)) AS notifications_sent,
                   (SELECT count(*) FILTER (WHERE status = 'pending') FROM notifications
                    WHERE created_at >= now() - make_interval(secs => $1::float8)) AS notifications_pending,
                   (SELECT count(*) FILTER (WHERE status = 'failed') FROM notifications
                    WHERE created_at >= now() - make_interval(secs => $1::float8)) AS notifications_failed,
                   (SELECT count(DISTINCT complaint_id) FROM late_complaints) AS late,
                   (SELECT count(*) FROM department_deliveries_waiting) AS deliveries_waiting
            FROM window_complaints
            """, [sinceSeconds]).single()
        let received: Int = try totals.decode("received")
        let routed: Int = try totals.decode("routed")
        let triage: Int = try totals.decode("to_triage")
        let reassigned: Int = try totals.decode("reassigned")

        let departmentRows = try db.query("""
            WITH window_complaints AS (
                SELECT c.id, c.department, rd.department AS routed_to,
                       rd.complaint_id IS NOT NULL AND \(corrected) AS corrected,
                       rd.duplicate_of IS NOT NULL AS duplicate
                FROM complaints c LEFT JOIN routing_decisions rd ON rd.complaint_id = c.id
                WHERE c.submitted_at >= now() - make_interval(secs => $1::float8)
            ), held AS (
                SELECT department, count(*) AS n FROM window_complaints WHERE department IS NOT NULL GROUP BY department
            ), routed AS (
                SELECT routed_to AS department, count(*) AS n, count(*) FILTER (WHERE corrected) AS corrected,
                       count(*) FILTER (WHERE duplicate) AS duplicates
                FROM window_complaints WHERE routed_to IS NOT NULL GROUP BY routed_to
            ), first_resolved AS (
                SELECT DISTINCT ON (e.complaint_id) e.complaint_id, e.to_department AS department, e.at
                FROM complaint_events e
                WHERE e.to_status = 'resolved'
                ORDER BY e.complaint_id, e.id
            ), resolved AS (
                SELECT f.department, count(*) AS n,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.at - c.submitted_at)) AS median
                FROM first_resolved f JOIN complaints c ON c.id = f.complaint_id
                WHERE f.at >= now() - make_interval(secs => $1::float8)
                GROUP BY f.department
            )
            , late AS (
                SELECT department, count(DISTINCT complaint_id) AS n FROM late_complaints GROUP BY department
            )
            SELECT d.code AS department, coalesce(h.n, 0) AS complaints, coalesce(r.n, 0) AS routed,
                   coalesce(r.corrected, 0) AS corrected, coalesce(s.n, 0) AS resolved,
                   s.median::float8 AS median_seconds_to_resolved, coalesce(l.n, 0) AS late,
                   EXISTS (SELECT 1 FROM department_contacts dc WHERE dc.department = d.code AND dc.arrondissement IS NULL)
                       AS has_contact,
                   coalesce(r.duplicates, 0) AS duplicates
            FROM departments d
            LEFT JOIN held h ON h.department = d.code
            LEFT JOIN routed r ON r.department = d.code
            LEFT JOIN resolved s ON s.department = d.code
            LEFT JOIN late l ON l.department = d.code
            WHERE h.n IS NOT NULL OR r.n IS NOT NULL OR s.n IS NOT NULL OR l.n IS NOT NULL
            ORDER BY coalesce(h.n, 0) DESC, d.code
            """, [sinceSeconds])
        let departments = try departmentRows.rows.map { row throws(PostgresError) -> Stats.Department in
            let routedHere: Int = try row.decode("routed"), correctedHere: Int = try row.decode("corrected")
            return Stats.Department(department: try row.decode("department"), complaints: try row.decode("complaints"),
                                    routed: routedHere,
                                    reassignedByHand: correctedHere,
                                    reassignedShare: routedHere > 0 ? Double(correctedHere) / Double(routedHere) : nil,
                                    resolved: try row.decode("resolved"),
                                    medianSecondsToResolved: try row.decode("median_seconds_to_resolved"),
                                    late: try row.decode("late"), hasContact: try row.decode("has_contact"),
                                    duplicates: try row.decode("duplicates"))
        }

        let areaRows = try db.query("""
            WITH windowed AS (
                SELECT coalesce(arrondissement, 'none') AS area, count(*) AS n FROM complaints
                WHERE submitted_at >= now() - make_interval(secs => $1::float8)
                GROUP BY 1
            ), late AS (
                SELECT coalesce(arrondissement, 'none') AS area, count(DISTINCT complaint_id) AS n
                FROM late_complaints GROUP BY 1
            )
            SELECT coalesce(w.area, l.area) AS arrondissement, coalesce(w.n, 0) AS complaints, coalesce(l.n, 0) AS late
            FROM windowed w FULL JOIN late l ON l.area = w.area
            ORDER BY 2 DESC, 1
            """, [sinceSeconds])
        let areas = try areaRows.rows.map { row throws(PostgresError) in
            Stats.Arrondissement(arrondissement: try row.decode("arrondissement"),
                                 complaints: try row.decode("complaints"), late: try row.decode("late"))
        }

        var stats = Stats(sinceSeconds: sinceSeconds, received: received, routed: routed, routedToTriage: triage,
                     triageShare: routed > 0 ? Double(triage) / Double(routed) : nil,
                     reassignedByHand: reassigned,
                     reassignedShare: routed > 0 ? Double(reassigned) / Double(routed) : nil,
                     latencyP50Seconds: try totals.decode("latency_p50"),
                     latencyP95Seconds: try totals.decode("latency_p95"),
                     queuePending: try totals.decode("queue_pending"), queueDead: try totals.decode("queue_dead"),
                     queueOldestSeconds: try totals.decode("queue_oldest_seconds"),
                     notificationsSent: try totals.decode("notifications_sent"),
                     notificationsPending: try totals.decode("notifications_pending"),
                     notificationsFailed: try totals.decode("notifications_failed"),
                     late: try totals.decode("late"), deliveriesWaiting: try totals.decode("deliveries_waiting"),
                     duplicates: departments.reduce(0) { $0 + $1.duplicates },
                     departments: departments, arrondissements: areas)
        stats.bouncingOffices = try InboundStore.bouncedOffices(on: db).map {
            "\($0.department)/\($0.arrondissement ?? "default") \($0.address)"
        }
        let inbound = try db.query("""
            SELECT count(*) FILTER (WHERE status = 'bounced')::int AS bounced,
                   count(*) FILTER (WHERE status = 'suppressed')::int AS suppressed
            FROM notifications WHERE created_at > now() - make_interval(secs => $1::float8)
            """, [sinceSeconds]).single()
        stats.notificationsBounced = try inbound.decode("bounced")
        stats.notificationsSuppressed = try inbound.decode("suppressed")
        return stats
    }
}
