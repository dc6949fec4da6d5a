import Foundation
import Mail
import Postgres

/// `chikaya notifier`: loops that drain the notification outbox over SMTP.
///
/// Each loop owns a database connection and an SMTP connection, reused across messages and
/// replaced when it breaks. Outcomes: sent; transient failure (4xx, network, timeout) retried
/// with back-off until the notification is `notifier.max_age_seconds` old; permanent failure
/// (5xx, invalid address) recorded at once.
public struct Notifier: Sendable {
    public let configuration: Configuration
    public let logger: Logger
    public let smtp: SMTPConfiguration
    public let tls: TLSContext
    public let renderer: CitizenMailRenderer
    public let departmentRenderer: DepartmentMailRenderer
    public let noticeRenderer: InboundNoticeRenderer
    public let concurrency: Int
    public let drain: Bool
    /// Signs the return path, Reply-To and List-Unsubscribe addresses when an inbound secret is
    /// configured; without one, emails go out as before (From as return path, no unsubscribe).
    public let addressing: InboundAddressing?
    let senderName: String

    public init(configuration: Configuration, logger: Logger, concurrency: Int, drain: Bool) throws {
        guard let url = configuration.smtpURL else {
            throw MailConfigurationError("no SMTP relay configured: set smtp_url in the configuration or CHIKAYA_SMTP_URL")
        }
        self.configuration = configuration
        self.logger = logger
        self.smtp = try SMTPConfiguration(url: url, caFile: configuration.smtpCAFile)
        self.tls = try TLSContext(caFile: configuration.smtpCAFile, loadTrustAnchors: smtp.tls != .none)
        let templates = try MailTemplates.load(directory: configuration.templatesDirectory,
                                               templates: CitizenMailRenderer.templates.merging(DepartmentMailRenderer.templates) { $1 }
                                                   .merging(InboundNoticeRenderer.templates) { $1 })
        self.renderer = CitizenMailRenderer(templates: templates, from: MailboxAddress.parse(configuration.mailFrom),
                                            trackingURL: configuration.trackingURL,
                                            defaultLanguage: configuration.defaultLanguage)
        self.departmentRenderer = DepartmentMailRenderer(templates: templates, from: MailboxAddress.parse(configuration.mailFrom),
                                                         attachmentsURL: configuration.attachmentsURL)
        self.noticeRenderer = InboundNoticeRenderer(templates: templates, from: MailboxAddress.parse(configuration.mailFrom))
        self.concurrency = concurrency
        self.drain = drain
        self.addressing = try configuration.inboundAddressing()
        self.senderName = ProcessIdentity.name
    }

    public func run(stop: StopSignal = StopSignal()) -> Bool {
        let runner = ServiceRunner(name: "notifier", loops: concurrency, grace: configuration.shutdownGraceSeconds,
                                   logger: logger, stop: stop)
        logger.info("notifier_started", [("loops", concurrency), ("relay", "\(smtp.host):\(smtp.port)"), ("drain", drain)])
        let clean = runner.run { index in
            NotifierLoop(notifier: self, id: "\(senderName):\(index)", stop: stop).run()
        }
        logger.info("notifier_stopped", [("clean", clean)])
        return clean
    }
}

/// One sending loop, on its own thread.
struct NotifierLoop {
    let notifier: Notifier
    let id: String
    let stop: StopSignal
    var logger: Logger { notifier.logger }
    var configuration: Configuration { notifier.configuration }

    func run() {
        var database = LoopConnection(configuration: configuration, role: "notifier", loop: id, logger: logger, stop: stop,
                                      channels: ["chikaya_notifications"])
        var smtp: SMTPConnection?
        // Messages the relay took whose record the database connection lost: recorded first
        // thing on the next connection, while their lease (longer than any send) still holds.
        var unrecorded: [UnrecordedSend] = []
        // Set when the database connection broke: what this loop still holds unsent is then
        // handed back on the next connection, not left to a lease as long as the slowest send.
        var handBack = false
        var lastSend = 0.0
        let interval = configuration.notifierRatePerSecond > 0
            ? Double(notifier.concurrency) / configuration.notifierRatePerSecond : 0
        // A batch sent at once is claimed for the slowest send of a usual message (up to 64 KiB,
        // one recipient) plus a minute to build the messages, so its group goes without a second
        // statement to renew the leases (a third of the outbox's row updates). With a rate
        // limit, messages wait their turn and each group renews its lease as before.
        let claimLease = interval > 0 ? configuration.notifierLeaseSeconds
            : max(configuration.notifierLeaseSeconds,
                  notifier.smtp.timeouts.worstCaseSend(dataBytes: 64 * 1024, recipients: 1) + 30 + 60)
        defer { smtp?.close() }
        while !stop.isRequested {
            do {
                let db = try database.open().connection
                try recordLate(&unrecorded, on: db)
                if handBack {
                    let released = try NotificationStore.releaseHeld(by: id, on: db)
                    if released > 0 { logger.info("notifications_handed_back", [("loop", id), ("count", released)]) }
                    handBack = false
                }
                // Taken before the claim is sent: the server starts the lease later than this.
                let claimed = monotonicNow()
                let batch = try NotificationStore.claim(on: db, limit: configuration.notifierBatch, sender: id,
                                                        leaseSeconds: claimLease,
                                                        maxAttempts: configuration.notifierMaxAttempts)
                if batch.isEmpty {
                    if notifier.drain, try !NotificationStore.hasDue(on: db) { break }
                    // Draining, what is still due is being claimed by another loop (its claim
                    // skipped by this one's, not yet committed when this one looked): look again
                    // in a moment, not after a whole poll. A drain of 2,000 messages took 1.5 s
                    // instead of 0.5 when a loop fell into that wait at its end.
                    _ = try db.waitForNotifications(until: monotonicNow() + configuration.idleWait(draining: notifier.drain),
                                                    unless: stop)
                    continue
                }
                let started = monotonicNow()
                var sent = 0, retried = 0, failed = 0, lost = 0
                // The whole batch goes as one group (one lease renewal, one pipelined stream, one
                // record of the sends), one message at a time when a rate is set. Messages that a
                // broken session left unsent come back first in the next group.
                let groupSize = interval > 0 ? 1 : batch.count
                var waiting = batch[...]
                while !waiting.isEmpty {
                    if stop.isRequested {
                        // Stopping: what is not sent yet goes back to the outbox now, rather than
                        // waiting for its lease to run out.
                        try NotificationStore.release(ids: waiting.map(\.id), sender: id, on: db)
                        break
                    }
                    if interval > 0 {
                        let wait = lastSend + interval - monotonicNow()
                        if wait > 0 { usleepSeconds(wait) }
                        lastSend = monotonicNow()
                    }
                    let group = Array(waiting.prefix(groupSize))
                    let result = try deliver(group, leaseEnds: claimed + claimLease, smtp: &smtp, unrecorded: &unrecorded, on: db)
                    for outcome in result.outcomes {
                        switch outcome {
                        case .sent: sent += 1
                        case .retry: retried += 1
                        case .failed: failed += 1
                        case .leaseLost: lost += 1
                        }
                    }
                    waiting = (result.notSent + waiting.dropFirst(group.count))[...]
                }
                NotifierMetrics.shared.batchFinished(since: started)
                logger.info("batch_sent", [("loop", id), ("claimed", batch.count), ("sent", sent), ("retry", retried),
                                           ("failed", failed), ("lease_lost", lost), ("ms", String(format: "%.1f", (monotonicNow() - started) * 1000))])
            } catch {
                if database.recover(from: error) {
                    handBack = true
                    continue
                }
                logger.error("loop_error", [("loop", id), ("error", "\(error)")])
                stop.sleep(configuration.pollSeconds)
            }
        }
    }

    enum Outcome { case sent, retry, failed, leaseLost }

    /// A notification with its message built, ready to go.
    struct Outgoing {
        let notification: ClaimedNotification
        let messageID: String
        let envelope: Envelope
        let data: [UInt8]
    }

    /// Renders and sends a group of notifications over one session, and records the outcomes;
    /// database errors propagate. Returns the outcomes and the notifications that were never
    /// offered to the relay (a broken session before their turn), to send again.
    ///
    /// When the group goes out, its leases must outlast the slowest send the SMTP timeouts allow
    /// (`SMTPTimeouts.worstCaseSend`) plus 30 s, and the whole group, connection included, is
    /// held to that time (`send(group:within:)` cuts every phase's timeout), so no other sender
    /// can claim a row while this one may still be talking to the relay. When what is left of
    /// the claim's lease (`leaseEnds`, on this process's monotonic clock) is not that long, the
    /// leases are taken again first, in one statement; a row that the renewal finds in other
    /// hands (a slow batch outlasted the claim's lease) is left to them.
    private func deliver(_ group: [ClaimedNotification], leaseEnds claimLeaseEnds: Double, smtp: inout SMTPConnection?,
                         unrecorded: inout [UnrecordedSend],
                         on db: PostgresConnection) throws(PostgresError) -> (outcomes: [Outcome], notSent: [ClaimedNotification]) {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(group.count)
        var ready: [Outgoing] = []
        ready.reserveCapacity(group.count)
        for notification in group {
            if let outgoing = try build(notification, outcomes: &outcomes, on: db) { ready.append(outgoing) }
        }
        var freshRetryAllowed = true
        var leaseEnds = claimLeaseEnds
        while !ready.isEmpty {
            var budget = 0.0
            for outgoing in ready {
                budget = max(budget, notifier.smtp.timeouts.worstCaseSend(dataBytes: outgoing.data.count,
                                                                          recipients: outgoing.envelope.recipients.count))
            }
            let lease = max(configuration.notifierLeaseSeconds, budget + 30)
            let held: Set<Int64>
            if leaseEnds - monotonicNow() >= lease {
                // The claim's lease still outlasts this group's slowest send: nobody else can
                // have claimed these rows.
                held = Set(ready.map(\.notification.id))
            } else {
                let renewing = monotonicNow()
                held = try NotificationStore.renewLeases(ids: ready.map(\.notification.id), sender: id, leaseSeconds: lease, on: db)
                leaseEnds = renewing + lease
            }
            let renewed = monotonicNow()
            if held.count < ready.count {
                for outgoing in ready where !held.contains(outgoing.notification.id) {
                    logger.warn("notification_lease_lost", [("loop", id), ("id", outgoing.notification.id)])
                    outcomes.append(.leaseLost)
                }
                ready.removeAll { !held.contains($0.notification.id) }
                if ready.isEmpty { break }
            }
            var reused = false
            let sendOutcomes: [SMTPDeliveryOutcome]
            do throws(SMTPError) {
                let session = try SMTPConnection.reusing(&smtp, configuration: notifier.smtp, tls: notifier.tls,
                                                         observe: NotifierMetrics.shared.smtpPhase)
                reused = session.reused
                sendOutcomes = session.connection.send(group: ready.map { ($0.envelope, $0.data) },
                                                       within: budget - (monotonicNow() - renewed))
            } catch {
                // No session: every message of the group shares the connection's failure.
                if smtp?.isUsable == false { smtp?.close(); smtp = nil }
                for outgoing in ready { outcomes.append(try record(error, for: outgoing.notification, on: db)) }
                return (outcomes, [])
            }
            if smtp?.isUsable == false { smtp?.close(); smtp = nil }
            // A connection kept from an earlier batch may have been closed by the relay while
            // idle; that shows as a failure of the first command, and the group then goes at once
            // on a new connection instead of waiting for a retry.
            if reused && freshRetryAllowed, case .failed(let error)? = sendOutcomes.first,
               !error.isPermanent, error.phase == "MAIL", smtp == nil {
                freshRetryAllowed = false
                logger.info("smtp_stale_connection", [("loop", id), ("id", ready[0].notification.id), ("kind", error.kind.rawValue)])
                continue
            }
            var accepted: [UnrecordedSend] = []
            var failures: [(ClaimedNotification, SMTPError)] = []
            var notSent: [ClaimedNotification] = []
            for (outgoing, outcome) in zip(ready, sendOutcomes) {
                switch outcome {
                case .accepted(let reply):
                    accepted.append(UnrecordedSend(notification: outgoing.notification, messageID: outgoing.messageID,
                                                   reply: reply.description))
                case .failed(let error):
                    failures.append((outgoing.notification, error))
                case .notSent:
                    notSent.append(outgoing.notification)
                }
            }
            // The sends first: should the connection break while recording a failure, the
            // accepted messages are already recorded (or kept to be), not handed back to go again.
            let recorded = try recordSent(accepted, unrecorded: &unrecorded, on: db)
            for (notification, error) in failures { outcomes.append(try record(error, for: notification, on: db)) }
            for send in accepted {
                guard recorded.contains(send.notification.id) else {
                    outcomes.append(outcomeWithoutLease(send.notification, outcome: "sent"))
                    continue
                }
                logger.debug("notification_sent", [("id", send.notification.id), ("reference", send.notification.reference)])
                NotifierMetrics.shared.email(.sent, reason: "ok", recipient: send.notification.recipientKind)
                outcomes.append(.sent)
            }
            return (outcomes, notSent)
        }
        return (outcomes, [])
    }

    /// Builds one notification's message, or records why it cannot be built (nil, the outcome
    /// appended to `outcomes`).
    private func build(_ notification: ClaimedNotification, outcomes: inout [Outcome],
                       on db: PostgresConnection) throws(PostgresError) -> Outgoing? {
        var message: MIMEMessage
        var envelope: Envelope
        let data: [UInt8]
        // A department email needs the complaint itself, a notice what it tells; fetched here so
        // the claim stays one shape.
        let notice = notification.noticeID != nil ? try InboundStore.notice(notificationID: notification.id, on: db) : nil
        let delivery = notification.recipientKind == "department" && notice == nil
            ? try DepartmentDeliveryStore.delivery(notificationID: notification.id, on: db) : nil
        do {
            try EmailAddress.validate(notification.recipient)
            if let notice {
                message = try notifier.noticeRenderer.message(for: notification, notice: notice)
            } else if let delivery {
                message = try notifier.departmentRenderer.message(for: notification, delivery: delivery)
            } else {
                message = try notifier.renderer.message(for: notification)
            }
            envelope = message.envelope
            if let addressing = notifier.addressing {
                // VERP: a bounce names its notification; a reply names its complaint (the office's
                // commands, the citizen's notes); citizens can unsubscribe from status emails.
                envelope = Envelope(sender: addressing.address(.bounce, value: String(notification.id)),
                                    recipients: envelope.recipients)
                message.replyTo = MailboxAddress(addressing.address(.reply, value: notification.reference))
                if notification.recipientKind == "citizen" {
                    message.listUnsubscribe = "mailto:" + addressing.address(.unsubscribe, value: String(notification.id))
                }
            }
            data = try message.render(date: Date())
        } catch {
            // A bad address or a message that cannot be built will not get better by waiting.
            let recorded = try NotificationStore.markFailed(id: notification.id, error: "cannot build the message: \(error)",
                                                            reply: nil, sender: id, on: db)
            guard recorded else {
                outcomes.append(outcomeWithoutLease(notification, outcome: "failed"))
                return nil
            }
            logger.warn("notification_failed", [("id", notification.id), ("reference", notification.reference),
                                                ("reason", "invalid message or address")])
            NotifierMetrics.shared.email(.failed, reason: "invalid_message", recipient: notification.recipientKind)
            outcomes.append(.failed)
            return nil
        }
        return Outgoing(notification: notification, messageID: message.messageID, envelope: envelope, data: data)
    }

    /// A message the relay accepted whose record has not reached the database yet.
    struct UnrecordedSend {
        let notification: ClaimedNotification
        let messageID: String
        let reply: String
    }

    /// Records the messages the relay took, in one statement; returns the ids recorded. When the
    /// database connection fails right then, the relay has the messages and only their record is
    /// missing: left to the lease they would be sent again, so they are kept to be recorded on
    /// the next connection.
    private func recordSent(_ sends: [UnrecordedSend], unrecorded: inout [UnrecordedSend],
                            on db: PostgresConnection) throws(PostgresError) -> Set<Int64> {
        do {
            return try NotificationStore.markSent(sends.map { NotificationStore.Sent(id: $0.notification.id, messageID: $0.messageID,
                                                                                     reply: $0.reply) },
                                                  sender: id, on: db)
        } catch {
            if error.isConnectionProblem { unrecorded.append(contentsOf: sends) }
            throw error
        }
    }

    /// Records the sends a lost connection left unrecorded, on the new connection.
    private func recordLate(_ unrecorded: inout [UnrecordedSend], on db: PostgresConnection) throws(PostgresError) {
        guard !unrecorded.isEmpty else { return }
        let recorded = try NotificationStore.markSent(unrecorded.map { NotificationStore.Sent(id: $0.notification.id,
                                                                                             messageID: $0.messageID, reply: $0.reply) },
                                                      sender: id, on: db)
        for send in unrecorded {
            if recorded.contains(send.notification.id) {
                logger.info("notification_recorded_late", [("loop", id), ("id", send.notification.id)])
            } else {
                _ = outcomeWithoutLease(send.notification, outcome: "sent")
            }
        }
        unrecorded.removeAll()
    }

    /// Records a failed send: failed for good on a permanent error, else retried after a back-off.
    private func record(_ error: SMTPError, for notification: ClaimedNotification,
                        on db: PostgresConnection) throws(PostgresError) -> Outcome {
        if error.isPermanent {
            guard try NotificationStore.markFailed(id: notification.id, error: error.description,
                                                   reply: error.reply?.description, sender: id, on: db) else {
                return outcomeWithoutLease(notification, outcome: "failed")
            }
            logger.warn("notification_failed", [("id", notification.id), ("reference", notification.reference),
                                                ("smtp_code", error.reply.map { String($0.code) } ?? "-"),
                                                ("kind", error.kind.rawValue)])
            NotifierMetrics.shared.email(.failed, reason: NotifierMetrics.reason(error), recipient: notification.recipientKind)
            return .failed
        }
        let policy = RetryPolicy.mail(base: configuration.notifierRetryBaseSeconds)
        let delay = policy.delay(afterAttempt: notification.attempts)
        let recorded = try NotificationStore.markRetry(id: notification.id, error: error.description,
                                                       reply: error.reply?.description, retryAfter: delay,
                                                       maxAge: configuration.notifierMaxAgeSeconds, sender: id, on: db)
        if recorded == .leaseLost { return outcomeWithoutLease(notification, outcome: "retry") }
        let gaveUp = recorded == .expired
        logger.warn(gaveUp ? "notification_expired" : "notification_retry",
                    [("id", notification.id), ("reference", notification.reference), ("kind", error.kind.rawValue),
                     ("smtp_code", error.reply.map { String($0.code) } ?? "-"),
                     ("retry_in_seconds", String(format: "%.0f", delay))])
        NotifierMetrics.shared.email(gaveUp ? .failed : .retried, reason: gaveUp ? "expired" : NotifierMetrics.reason(error),
                                     recipient: notification.recipientKind)
        return gaveUp ? .failed : .retry
    }

    /// An outcome that could not be recorded because another sender holds the row now: this must
    /// not happen once the lease outlasts every send, so it is logged as an error to look into.
    private func outcomeWithoutLease(_ notification: ClaimedNotification, outcome: String) -> Outcome {
        logger.error("notification_outcome_without_lease", [("loop", id), ("id", notification.id),
                                                             ("reference", notification.reference), ("outcome", outcome)])
        return .leaseLost
    }
}
