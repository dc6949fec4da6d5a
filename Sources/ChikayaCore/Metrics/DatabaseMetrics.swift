import Foundation
import Metrics
import Postgres

/// `chikaya metrics`: the database-wide figures as Prometheus gauges, in the same text format as
/// a service's `/metrics`, for a cron job or node_exporter's textfile collector.
///
/// They describe the shared state, so one exporter per database is enough (the services' own
/// `/metrics` count what each process did).
public enum DatabaseMetrics {
    /// Reads the figures and renders them.
    public static func exposition(on db: PostgresConnection) throws(PostgresError) -> String {
        PrometheusText.render(families(try DatabaseMetricsStore.figures(on: db)))
    }

    public static func families(_ figures: DatabaseFigures) -> [MetricFamily] {
        typealias Label = MetricFamily.Label
        var families: [MetricFamily] = []
        func gauge(_ name: String, _ help: String, _ samples: [MetricFamily.Sample]) {
            families.append(MetricFamily(name: name, help: help, points: .gauge(samples)))
        }

        gauge("chikaya_routing_queue_entries", "Complaints in the routing queue, per state (pending: due or waiting for a retry; leased: claimed by a worker; dead: set aside).",
              figures.queue.map { .init([Label("state", $0.state)], Double($0.entries)) })
        gauge("chikaya_routing_queue_oldest_age_seconds", "Age of the oldest complaint in each state of the routing queue (0 when none).",
              figures.queue.map { .init([Label("state", $0.state)], $0.oldestSeconds ?? 0) })

        // The usual statuses are always there, at 0 when none, so alerts and graphs find them.
        var outbox: [String: Double] = [:]
        for status in ["pending", "sent", "failed"] {
            for recipient in ["citizen", "department"] { outbox["\(status)\t\(recipient)"] = 0 }
        }
        var oldest: [String: Double] = ["citizen": 0, "department": 0]
        for row in figures.outbox {
            outbox["\(row.status)\t\(row.recipient)"] = Double(row.count)
            if let age = row.oldestSeconds { oldest[row.recipient] = age }
        }
        gauge("chikaya_outbox_notifications", "Notifications in the outbox, per status and recipient kind.",
              outbox.keys.sorted().map { key in
                  let parts = key.split(separator: "\t").map(String.init)
                  return .init([Label("status", parts[0]), Label("recipient", parts[1])], outbox[key] ?? 0)
              })
        gauge("chikaya_outbox_oldest_pending_age_seconds", "Age of the oldest pending notification, per recipient kind (0 when none).",
              oldest.keys.sorted().map { .init([Label("recipient", $0)], oldest[$0] ?? 0) })

        gauge("chikaya_complaints", "Complaints per status and department (none before routing).",
              figures.complaints.map { .init([Label("status", $0.status), Label("department", $0.department)], Double($0.count)) })
        gauge("chikaya_complaints_late", "Open complaints past one of their department's deadlines, per department.",
              figures.late.keys.sorted().map { .init([Label("department", $0)], Double(figures.late[$0] ?? 0)) })
        gauge("chikaya_department_offices_without_address", "Departments without a default office address: their deliveries wait.",
              [.init([], Double(figures.officesWithoutAddress))])
        gauge("chikaya_department_deliveries_waiting", "Assignments whose office email waits for an address.",
              [.init([], Double(figures.deliveriesWaiting))])
        if let bouncing = figures.officesBouncing {
            gauge("chikaya_office_addresses_bouncing", "Department office addresses on the suppression list because they bounce: their complaints reach nobody.",
                  [.init([], Double(bouncing))])
        }
        gauge("chikaya_schema_version", "The latest migration applied to the database.", [.init([], Double(figures.schemaVersion))])
        if let published = figures.rulesPublishedAt {
            gauge("chikaya_rules_published_timestamp_seconds", "When the routing rules in force were published.", [.init([], published)])
        }
        return families
    }
}

/// node_exporter's textfile collector reads every `*.prom` file of its directory at each scrape:
/// the file must change in one step, never be seen half written.
public enum TextfileExport {
    /// Writes `text` to `directory/name` through a temporary file in the same directory (not
    /// ending in `.prom`, so the collector skips it) and a rename.
    public static func write(_ text: String, directory: String, name: String = "chikaya.prom") throws(TextfileError) {
        let target = (directory as NSString).appendingPathComponent(name)
        let temporary = (directory as NSString).appendingPathComponent(".\(name).\(getpid()).tmp")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TextfileError(path: temporary, reason: String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        var offset = 0
        var failure: String?
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Foundation.write(fd, base + offset, raw.count - offset)
            }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                failure = String(cString: strerror(errno))
                break
            }
            offset += written
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil && rename(temporary, target) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw TextfileError(path: target, reason: failure)
        }
    }
}

/// The textfile could not be written: where, and the system's reason.
public struct TextfileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}
