import Postgres

/// Wakes the notifier after a routing batch's commit from a connection of its own, without
/// waiting for the server, so that a routing loop never waits on PostgreSQL's NOTIFY lock.
///
/// A transaction that notifies takes that lock (one per database) at its commit and, when its
/// commit waits for the disk, holds it across its WAL flush: at 500 complaints/s the intake's
/// commits hold it a good part of the time. The wake-up sent after the batch's commit on the
/// loop's own connection waited there (a ninth of a loop's busy time in `scripts/bench-route`'s
/// latency run), and the loop's next claim queued behind it. Here it waits on a connection
/// nobody waits on; its outcome is read at the next wake-up or when the loop ends.
///
/// Every batch that queued notifications sends one, after its commit: a NOTIFY still outstanding
/// may have run before that commit, so none stands for another. At most `maxOutstanding` are left
/// waiting; past that the oldest are waited for (only when the lock is held for long). A wake-up
/// that fails (the connection broke, the server is away) is logged and left to the notifier's
/// poll, as a wake-up lost in a crash is; the rows themselves were committed with the decisions.
/// One per routing loop, used on the loop's thread only, closed before the loop ends.
final class NotifierWakeUp {
    let database: Database
    let loop: String
    let logger: Logger
    static let maxOutstanding = 16
    private var connection: PostgresConnection?
    /// After a failed connection, when the next may be tried (monotonic seconds).
    private var retryAt = 0.0

    init(database: Database, loop: String, logger: Logger) {
        self.database = database
        self.loop = loop
        self.logger = logger
    }

    deinit {
        close()
    }

    /// How many wake-ups were sent whose outcome has not been read yet.
    var outstanding: Int { connection?.sentAwaitingResults ?? 0 }

    /// Sends one wake-up and returns without waiting for it (see the type's comment).
    func send() {
        collect(waiting: false)
        guard let db = open() else { return }
        do {
            if db.sentAwaitingResults >= Self.maxOutstanding { report(try db.collectSent(waiting: true)) }
            try db.send(QueueStore.notifierWakeUpStatement)
        } catch {
            drop(after: error)
        }
    }

    /// Opens the connection now, if it is not open (and not waiting to be retried), rather than
    /// at the first wake-up: a new connection (TLS, SCRAM) takes milliseconds the first batch
    /// would otherwise spend before its loop could claim again.
    func connect() {
        _ = open()
    }

    /// Reads the outcomes that came back (all of them, waiting, with `waiting`) and logs failures.
    func collect(waiting: Bool) {
        guard let db = connection, db.sentAwaitingResults > 0 else { return }
        do {
            report(try db.collectSent(waiting: waiting))
        } catch {
            drop(after: error)
        }
    }

    /// Waits for the wake-ups still outstanding, then closes the connection.
    func close() {
        collect(waiting: true)
        connection = nil
    }

    private func open() -> PostgresConnection? {
        if let connection { return connection }
        guard monotonicNow() >= retryAt else { return nil }
        do {
            let db = try database.connect()
            // Named apart from the loops' sessions in pg_stat_activity. A NOTIFY lock held for
            // long makes a wake-up fail (the notifier's poll makes up for it) rather than pile up
            // or hold the loop's end, which waits for what is outstanding.
            try db.executeScript("SET application_name = 'chikaya-worker-wake-up'; SET lock_timeout = '2s'")
            connection = db
            return db
        } catch {
            drop(after: error)
            return nil
        }
    }

    private func report(_ outcomes: [Result<PostgresResult, PostgresError>]) {
        for case .failure(let error) in outcomes {
            logger.warn("notifier_wake_up_failed", [("loop", loop), ("error", error.description)])
        }
    }

    private func drop(after error: PostgresError) {
        logger.warn("notifier_wake_up_failed", [("loop", loop), ("error", error.description)])
        if error.isConnectionProblem || connection?.isConnected == false {
            connection = nil
            retryAt = monotonicNow() + 5
        }
    }
}
