import ChikayaCore

/// `chikaya notifier`: sends the citizens' emails from the outbox.
enum NotifierCommand: Command {
    static let name = "notifier"
    static let summary = "send pending notification emails (runs until stopped)"
    static let usage = """
    usage: chikaya notifier [--concurrency N] [--drain] [--metrics-listen HOST:PORT]
                            [--config FILE] [--log-level LEVEL]

    Claims pending rows of the notification outbox, renders each with the template of its status
    and language (config/templates), and sends it through the SMTP relay of smtp_url
    (CHIKAYA_SMTP_URL), over one reused connection per loop. Records 'sent' with the server's
    reply; retries 4xx replies, network errors and timeouts with back-off until the notification
    is notifier.max_age_seconds old; records 5xx replies and invalid addresses as 'failed' at once.
    A message recorded as sent is never sent again.

    Wakes on new notifications (LISTEN) with a fallback poll. SIGTERM or SIGINT stops it
    gracefully; a second signal stops it at once.

    options:
      --concurrency N     sending loops, each with its own connections (default: notifier.concurrency)
      --drain             exit 0 once no notification is due, instead of waiting for more
      --metrics-listen HOST:PORT
                          serve GET /metrics (Prometheus) and /healthz there, e.g. 127.0.0.1:9465
                          (default: notifier.metrics_listen; none when unset)
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "notifier")
        let concurrency = try arguments.intOption("--concurrency", default: runtime.configuration.notifierConcurrency,
                                                  range: 1...32)
        let drain = arguments.flag("--drain")
        let metricsAddress = try runtime.metricsAddress(&arguments, configured: runtime.configuration.notifierMetricsListen)
        try arguments.finish()
        let notifier: Notifier
        do {
            notifier = try Notifier(configuration: runtime.configuration, logger: runtime.logger,
                                    concurrency: concurrency, drain: drain)
        } catch {
            throw CLIError.configuration("cannot start the notifier: \(error)")
        }
        let stop = StopSignal()
        let metrics = try runtime.startMetrics(metricsAddress, component: "notifier", stop: stop)
        defer { metrics?.stop() }
        // Past the shutdown bound a message may have been cut off mid-send: not a clean stop.
        return notifier.run(stop: stop) ? 0 : 1
    }
}
