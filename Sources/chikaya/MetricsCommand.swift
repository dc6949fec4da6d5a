import ChikayaCore

/// `chikaya metrics`: the database-wide figures in the Prometheus text format.
enum MetricsCommand: Command {
    static let name = "metrics"
    static let summary = "database-wide figures in the Prometheus text format (stdout or a textfile)"
    static let usage = """
    usage: chikaya metrics [--textfile DIR]

    Prints, as Prometheus gauges: the routing queue's entries and oldest age per state (pending,
    leased, dead); the outbox's notifications per status and recipient kind, and the oldest
    pending one's age; complaints per status and department; late complaints per department;
    offices without an address and deliveries waiting; office addresses bouncing (once the
    schema records bounces); the schema version and when the rules in force were published.

    The worker and notifier serve what each process did on --metrics-listen; this command reads
    the shared state, so one exporter per database is enough (a timer or cron job).

    options:
      --textfile DIR      write DIR/chikaya.prom instead (atomically: a temporary file and a
                          rename) for node_exporter's textfile collector
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "metrics")
        let directory = try arguments.option("--textfile")
        try arguments.finish()
        let db = try runtime.connect(role: "metrics")
        let text: String
        do { text = try DatabaseMetrics.exposition(on: db) } catch { throw CLIError.database(error) }
        guard let directory else {
            print(text, terminator: "")
            return 0
        }
        do { try TextfileExport.write(text, directory: directory) } catch { throw CLIError.failure(error.description) }
        return 0
    }
}
