import ChikayaCore
import Foundation

/// `chikaya stats`: how the city is doing over a window of time.
enum StatsCommand: Command {
    static let name = "stats"
    static let summary = "complaints, routing, reassignments, latency, queue and emails over a period"
    static let usage = """
    usage: chikaya stats [--since 7d] [--format table|json]

    For the complaints submitted in the window (default 7d; units s, m, h, d, w):
      received and routed; per department and per arrondissement; the share the router sent to
      triage; the share staff reassigned by hand after routing (the routing error rate seen in
      practice), per department the router chose; routing latency p50/p95 (submitted -> decided).
    For the notifications created in the window: sent, pending, failed.
    For the complaints first resolved in the window: median time from submission, per department.
    The queue figures (depth, dead letters, oldest pending) are the queue as it is now.

    options:
      --since DURATION    the window (default 7d)
      --format FORMAT     table (default) or json
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "stats")
        let since = try DurationArgument.seconds(try arguments.option("--since") ?? "7d", option: "--since", command: "stats")
        let format = try OutputFormat.parse(try arguments.option("--format"), allowed: [.table, .json], command: "stats")
        try arguments.finish()
        let db = try runtime.connect(role: "stats")
        let stats: Stats
        do { stats = try StatsStore.compute(sinceSeconds: since, on: db) } catch { throw CLIError.database(error) }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(stats), as: UTF8.self))
        default:
            print(table(stats))
        }
        return 0
    }

    static func table(_ s: Stats) -> String {
        func percent(_ share: Double?) -> String { share.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        func age(_ seconds: Double?) -> String { seconds.map(Duration.human) ?? "-" }
        func latency(_ seconds: Double?) -> String {
            guard let seconds else { return "-" }
            return seconds < 60 ? String(format: "%.2fs", seconds) : Duration.human(seconds)
        }
        var out: [String] = []
        out.append("since \(Duration.human(s.sinceSeconds)) ago")
        out.append("received              \(s.received)")
        out.append("routed                \(s.routed)")
        out.append("sent to triage        \(s.routedToTriage) (\(percent(s.triageShare)) of routed)")
        out.append("reassigned by hand    \(s.reassignedByHand) (\(percent(s.reassignedShare)) of routed)")
        out.append("routing latency       p50 \(latency(s.latencyP50Seconds))  p95 \(latency(s.latencyP95Seconds))")
        out.append("queue                 \(s.queuePending) pending, \(s.queueDead) dead, oldest \(age(s.queueOldestSeconds))")
        out.append("notifications         \(s.notificationsSent) sent, \(s.notificationsPending) pending, \(s.notificationsFailed) failed")
        out.append("bounced, suppressed   \(s.notificationsBounced) bounced, \(s.notificationsSuppressed) not sent to a suppressed address")
        out.append("late now              \(s.late) open complaints past a deadline")
        if !s.bouncingOffices.isEmpty {
            out.append("OFFICES THAT BOUNCE   \(s.bouncingOffices.joined(separator: ", ")) (their complaints reach nobody)")
        }
        out.append("possible duplicates   \(s.duplicates) (\(percent(s.routed > 0 ? Double(s.duplicates) / Double(s.routed) : nil)) of routed)")
        let missing = s.departments.filter { !$0.hasContact }.map(\.department)
        out.append("department contacts   \(missing.isEmpty ? "every department listed has one" : "missing for " + missing.joined(separator: ", "))"
                   + (s.deliveriesWaiting > 0 ? "; \(s.deliveriesWaiting) deliveries waiting" : ""))
        out.append("")
        var departments = TextTable(["DEPARTMENT", "COMPLAINTS", "ROUTED", "REASSIGNED", "SHARE", "DUPLICATES", "RESOLVED",
                                     "MEDIAN TO RESOLVED", "LATE"],
                                    rightAligned: [1, 2, 3, 4, 5, 6, 7, 8])
        for d in s.departments {
            departments.add([d.department, String(d.complaints), String(d.routed), String(d.reassignedByHand),
                             percent(d.reassignedShare), String(d.duplicates), String(d.resolved),
                             age(d.medianSecondsToResolved), String(d.late)])
        }
        out.append(departments.render())
        out.append("")
        var areas = TextTable(["ARRONDISSEMENT", "COMPLAINTS", "LATE"], rightAligned: [1, 2])
        for a in s.arrondissements { areas.add([a.arrondissement, String(a.complaints), String(a.late)]) }
        out.append(areas.render())
        return out.joined(separator: "\n")
    }
}
