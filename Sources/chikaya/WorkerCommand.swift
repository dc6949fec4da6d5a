import ChikayaCore

/// `chikaya worker`: routes the complaints of the queue.
enum WorkerCommand: Command {
    static let name = "worker"
    static let summary = "route queued complaints to departments (runs until stopped)"
    static let usage = """
    usage: chikaya worker [--concurrency N] [--batch N] [--drain] [--metrics-listen HOST:PORT]
                          [--config FILE] [--log-level LEVEL]

    Claims new complaints from the routing queue, classifies them with the published rules and
    records each decision, the complaint's 'assigned' event and the citizen's notification in one
    transaction. Any number of workers may run against one database, on any machines.

    Wakes on new complaints (LISTEN) with a fallback poll; switches to newly published rules
    between batches; reconnects when the database goes away. SIGTERM or SIGINT: stops claiming,
    lets in-flight batches finish (worker.shutdown_grace_seconds), exits 0 (1 when the bound
    cut work off); a second signal exits at once. A complaint whose routing keeps failing goes to the dead letters after
    worker.max_attempts tries (see 'chikaya queue').

    options:
      --concurrency N     routing loops, each with its own connection (default: worker.concurrency)
      --batch N           complaints claimed at once (default: worker.batch)
      --drain             exit 0 once the queue is empty, instead of waiting for more
      --metrics-listen HOST:PORT
                          serve GET /metrics (Prometheus) and /healthz there, e.g. 127.0.0.1:9464
                          (default: worker.metrics_listen; none when unset)
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "worker")
        let config = runtime.configuration
        let concurrency = try arguments.intOption("--concurrency", default: config.workerConcurrency, range: 1...64)
        let batch = try arguments.intOption("--batch", default: config.workerBatch, range: 1...10_000)
        let drain = arguments.flag("--drain")
        let metricsAddress = try runtime.metricsAddress(&arguments, configured: config.workerMetricsListen)
        try arguments.finish()

        let worker = RoutingWorker(configuration: config, logger: runtime.logger, concurrency: concurrency,
                                   batchSize: batch, drain: drain)
        do {
            try worker.checkRulesPublished()
        } catch let error as PostgresError {
            throw CLIError.unavailable("cannot start the worker: \(error)")
        } catch let error as RulesNotPublished {
            throw CLIError.failure(error.description)
        } catch {
            throw CLIError.dataError("the published rules cannot be loaded: \(error)")
        }
        let stop = StopSignal()
        let metrics = try runtime.startMetrics(metricsAddress, component: "worker", stop: stop)
        defer { metrics?.stop() }
        // Past the shutdown bound some work was cut off (its lease will return it to the
        // queue): say so with the exit status rather than pretend a clean stop.
        return worker.run(stop: stop) ? 0 : 1
    }
}
