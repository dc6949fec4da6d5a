import Foundation
import Postgres
import Routing

/// How well one part of the service is doing; the worst one is the process's exit status.
public enum HealthStatus: Int, Sendable, Comparable, CustomStringConvertible {
    /// Working as it should.
    case healthy = 0
    /// Working, but a person should look (a backlog, dead letters, an office without an address).
    case degraded = 1
    /// Not working: the services cannot run (no database, schema not migrated, no rules).
    case down = 2

    public static func < (a: HealthStatus, b: HealthStatus) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .healthy: "ok"
        case .degraded: "degraded"
        case .down: "down"
        }
    }
}

/// One line of `chikaya health`.
public struct HealthCheckResult: Sendable {
    public let name: String
    /// Nil when the check could not run because an earlier one failed.
    public let status: HealthStatus?
    public let detail: String
}

/// What `chikaya health` found; `status` is the worst of the checks.
public struct HealthReport: Sendable {
    public let checks: [HealthCheckResult]
    public var status: HealthStatus { checks.compactMap(\.status).max() ?? .healthy }
}

/// The thresholds beyond which a backlog is a degradation.
public struct HealthLimits: Sendable {
    /// Oldest pending complaint in the routing queue.
    public var maxQueueAgeSeconds: Double = 60
    /// Oldest pending notification in the outbox.
    public var maxOutboxAgeSeconds: Double = 600

    public init(maxQueueAgeSeconds: Double = 60, maxOutboxAgeSeconds: Double = 600) {
        self.maxQueueAgeSeconds = maxQueueAgeSeconds
        self.maxOutboxAgeSeconds = maxOutboxAgeSeconds
    }
}

/// `chikaya health`: whether this installation can do its job, check by check, for a probe,
/// `ExecStartPre` or a person. Reads only; a check that cannot run because an earlier one failed
/// says so.
public enum HealthCheck {
    public static func run(configuration: Configuration, limits: HealthLimits,
                           migrations: [Migration] = Migrations.all) -> HealthReport {
        var checks: [HealthCheckResult] = []
        func add(_ name: String, _ status: HealthStatus?, _ detail: String) {
            checks.append(HealthCheckResult(name: name, status: status, detail: detail))
        }
        let laterChecks = ["migrations", "rules", "queue", "outbox", "dead letters", "offices"]

        let started = monotonicNow()
        let db: PostgresConnection
        let version: String
        do {
            db = try Database(configuration: configuration, role: "health").connect(timeout: 5)
            version = try HealthStore.serverVersion(on: db)
        } catch {
            add("database", .down, "unreachable: \(error)")
            for name in laterChecks { add(name, nil, "not checked: no database") }
            return HealthReport(checks: checks)
        }
        add("database", .healthy, String(format: "reachable (PostgreSQL %@, %.0f ms)", version, (monotonicNow() - started) * 1000))

        func attempt(_ name: String, _ body: () throws -> Void) {
            do {
                try body()
            } catch let error as PostgresError where error.sqlState == "42501" {
                // The login's role may not read this: nothing is known about it, which is not "down".
                add(name, nil, "not checked: this login may not read it (run health as a chikaya_readonly login)")
            } catch {
                add(name, .down, "cannot check: \(error)")
            }
        }

        var schemaUsable = false
        attempt("migrations") {
            let applied = try HealthStore.appliedMigrations(on: db)
            let (status, detail) = migrationState(applied, known: migrations)
            schemaUsable = status != .down
            add("migrations", status, detail)
        }
        guard schemaUsable else {
            for name in laterChecks.dropFirst() { add(name, nil, "not checked: the schema is not current") }
            return HealthReport(checks: checks)
        }

        attempt("rules") {
            guard let latest = try RulesStore.latest(on: db) else {
                add("rules", .down, "none published (chikaya rules publish)")
                return
            }
            let age = Duration.human(max(0, Date().timeIntervalSince(latest.publishedAt)))
            do {
                _ = try RuleSet.parse(source: latest.source ?? "", fileName: latest.fileName)
                add("rules", .healthy, "published \(latest.version.prefix(12)) \(age) ago")
            } catch {
                add("rules", .down, "the published rules \(latest.version.prefix(12)) do not load: \(error)")
            }
        }

        var dead = 0
        attempt("queue") {
            let queue = try QueueStore.status(on: db)
            dead = queue.dead
            let waiting = queue.pending + queue.leased
            guard let oldest = queue.oldestPendingSeconds else {
                add("queue", .healthy, "no complaint waiting")
                return
            }
            let late = oldest > limits.maxQueueAgeSeconds
            add("queue", late ? .degraded : .healthy,
                "oldest pending complaint \(Duration.human(oldest)) (limit \(Duration.human(limits.maxQueueAgeSeconds))), \(waiting) waiting")
        }

        attempt("outbox") {
            let outbox = try HealthStore.outboxBacklog(on: db)
            guard let oldest = outbox.oldestPendingSeconds else {
                add("outbox", .healthy, "no notification pending")
                return
            }
            let late = oldest > limits.maxOutboxAgeSeconds
            add("outbox", late ? .degraded : .healthy,
                "oldest pending notification \(Duration.human(oldest)) (limit \(Duration.human(limits.maxOutboxAgeSeconds))), \(outbox.pending) pending")
        }

        attempt("dead letters") {
            add("dead letters", dead > 0 ? .degraded : .healthy,
                dead > 0 ? "\(dead) complaint\(dead == 1 ? "" : "s") could not be routed (chikaya queue dead)" : "none")
        }

        attempt("offices") {
            let check = try DepartmentStore.check(on: db)
            let bounces = try HealthStore.officeBounces(on: db)
            var problems: [String] = []
            if !check.withoutDefault.isEmpty {
                problems.append("no address for \(check.withoutDefault.joined(separator: ", "))")
            }
            let waiting = check.waiting.reduce(0) { $0 + $1.complaints }
            if waiting > 0 { problems.append("\(waiting) deliveries waiting for an address") }
            if !bounces.offices.isEmpty { problems.append("bouncing: \(bounces.offices.joined(separator: ", "))") }
            let tracking = bounces.tracked ? "" : "; bounces not tracked by this schema"
            add("offices", problems.isEmpty ? .healthy : .degraded,
                (problems.isEmpty ? "every department has an address, none bouncing" : problems.joined(separator: "; ")) + tracking)
        }
        return HealthReport(checks: checks)
    }

    /// Current, pending, edited or unknown migrations, and what each means for the services.
    static func migrationState(_ applied: AppliedMigrations, known: [Migration]) -> (HealthStatus, String) {
        guard applied.tracked, !applied.checksums.isEmpty else {
            return (.down, "the schema was never migrated (chikaya migrate)")
        }
        for migration in known {
            if let checksum = applied.checksums[migration.version], checksum != migration.checksum {
                return (.down, "migration \(migration.version) (\(migration.name)) was applied with another text (checksum \(checksum))")
            }
        }
        let knownVersions = Set(known.map(\.version))
        let pending = known.filter { applied.checksums[$0.version] == nil }.map(\.version).sorted()
        if !pending.isEmpty {
            return (.down, "\(pending.count) pending (\(pending.map(String.init).joined(separator: ", "))): run chikaya migrate")
        }
        let newer = applied.checksums.keys.filter { !knownVersions.contains($0) }.sorted()
        let latest = applied.checksums.keys.max() ?? 0
        if !newer.isEmpty {
            return (.degraded, "the database has migration \(latest), newer than this program: upgrade the program")
        }
        return (.healthy, "current (version \(latest))")
    }
}
