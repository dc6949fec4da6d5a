import Postgres

/// The database connection of one service loop (worker or notifier): opened on demand with the
/// loop's session set-up and LISTEN channels, dropped when it breaks, and reopened after an
/// exponential back-off with jitter (capped at 30 s), one log line per failure.
struct LoopConnection {
    let configuration: Configuration
    let role: String
    let loop: String
    let logger: Logger
    let stop: StopSignal
    let channels: [String]
    /// Run on every new connection before LISTEN (session settings).
    var prepare: (PostgresConnection) throws(PostgresError) -> Void = { _ throws(PostgresError) in }

    private var current: PostgresConnection?
    private var failures = 0

    init(configuration: Configuration, role: String, loop: String, logger: Logger, stop: StopSignal, channels: [String]) {
        self.configuration = configuration
        self.role = role
        self.loop = loop
        self.logger = logger
        self.stop = stop
        self.channels = channels
    }

    /// The open connection; `isNew` is true when it was just (re)opened, so that the loop can
    /// refresh what a NOTIFY lost during the outage would have told it.
    mutating func open() throws(PostgresError) -> (connection: PostgresConnection, isNew: Bool) {
        if let current { return (current, false) }
        let connection = try Database(configuration: configuration, role: role).connect()
        Database.warnIfPlainText(connection, logger: logger)
        try prepare(connection)
        for channel in channels { try connection.listen(channel) }
        current = connection
        if failures > 0 { logger.info("database_reconnected", [("loop", loop)]) }
        failures = 0
        return (connection, true)
    }

    /// Called with an error of the loop's body: when it is the connection's, drops the
    /// connection, logs one line and sleeps the back-off (waking early on a stop) and returns
    /// true; otherwise returns false and the loop handles the error itself.
    mutating func recover(from error: any Error) -> Bool {
        let lost = current?.isConnected == false
        guard (error as? PostgresError)?.isConnectionProblem == true || lost else { return false }
        current = nil
        failures += 1
        let delay = RetryPolicy(base: 0.5, cap: 30).delay(afterAttempt: failures)
        logger.warn("database_unavailable", [("loop", loop), ("error", "\(error)"),
                                             ("retry_in_seconds", String(format: "%.1f", delay))])
        stop.sleep(delay)
        return true
    }
}

extension PostgresConnection {
    /// Waits for notifications until `deadline` (`monotonicNow()` seconds), in slices so that a
    /// stop is seen within a quarter of a second whatever the wait; returns the first that
    /// arrive, or none when the deadline passes or a stop is requested. For the service loops'
    /// idle waits, which used to see a stop only at the end of their whole poll.
    func waitForNotifications(until deadline: Double, unless stop: StopSignal) throws(PostgresError) -> [PostgresNotification] {
        while !stop.isRequested {
            let left = deadline - monotonicNow()
            if left <= 0 { return [] }
            let woken = try waitForNotifications(timeout: min(left, 0.25))
            if !woken.isEmpty { return woken }
        }
        return []
    }
}
