import ChikayaCore

/// `chikaya health`: one line per check, exit 0 healthy, 1 degraded, 2 down.
enum HealthCommand: Command {
    static let name = "health"
    static let summary = "check the database, schema, rules, backlogs and offices (exit 0 ok, 1 degraded, 2 down)"
    static let usage = """
    usage: chikaya health [--max-queue-age 60s] [--max-outbox-age 10m] [--allow-degraded]

    Checks, one line each (status, check, detail):
      database       reachable within 5 s                                 else down
      migrations     every migration of this program applied, unedited    else down
      rules          routing rules published and loadable                 else down
      queue          oldest pending complaint younger than --max-queue-age  else degraded
      outbox         oldest pending notification younger than --max-outbox-age  else degraded
      dead letters   no complaint set aside after worker.max_attempts     else degraded
      offices        every department has an address, none bouncing       else degraded
    A check that cannot run because an earlier one failed says 'skipped'. The last line is the
    overall status. Reads only; fit for a probe or systemd's ExecStartPre.

    Exit status: 0 healthy, 1 degraded, 2 down (64 for a bad command line, 78 for a bad
    configuration). With --allow-degraded, degraded exits 0: for systemd's ExecStartPre, where
    a backlog is a reason to start a worker, not to refuse it.

    options:
      --max-queue-age DURATION    default 60s (units s, m, h, d)
      --max-outbox-age DURATION   default 10m
      --allow-degraded            exit 0 unless a check is down
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "health")
        var limits = HealthLimits()
        if let text = try arguments.option("--max-queue-age") {
            limits.maxQueueAgeSeconds = try DurationArgument.seconds(text, option: "--max-queue-age", command: name, bareUnit: 1)
        }
        if let text = try arguments.option("--max-outbox-age") {
            limits.maxOutboxAgeSeconds = try DurationArgument.seconds(text, option: "--max-outbox-age", command: name, bareUnit: 1)
        }
        let allowDegraded = arguments.flag("--allow-degraded")
        try arguments.finish()
        let report = HealthCheck.run(configuration: runtime.configuration, limits: limits)
        let width = report.checks.map(\.name.count).max() ?? 0
        for check in report.checks {
            let status = (check.status?.description ?? "skipped").padding(toLength: 9, withPad: " ", startingAt: 0)
            print("\(status) \(check.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(check.detail)")
        }
        print("status \(report.status)")
        if allowDegraded && report.status == .degraded { return 0 }
        return Int32(report.status.rawValue)
    }
}
