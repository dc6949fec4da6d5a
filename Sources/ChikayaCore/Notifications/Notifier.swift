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
        self.tls = try TLSContext(caFile: configuration.smtpCAFile)
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
        var lastSend = 0.0
        let interval = configuration.notifierRatePerSecond > 0
            ? Double(notifier.concurrency) / configuration.notifierRatePerSecond : 0
        defer { smtp?.close() }
        while !stop.isRequested {
            do {
                let db = try database.open().connection
                try recordLate(&unrecorded, on: db)
                let batch = try NotificationStore.claim(on: db, limit: configuration.notifierBatch, sender: id,
                                                        leaseSeconds: configuration.notifierLeaseSeconds,
                                                        maxAttempts: configuration.notifierMaxAttempts)
                if batch.isEmpty {
                    if notifier.drain, try !NotificationStore.hasDue(on: db) { break }
                    _ = try db.waitForNotifications(timeout: configuration.pollSeconds)
                    continue
                }
                let started = monotonicNow()
                var sent = 0, retried = 0, failed = 0, lost = 0
                for (index, notification) in batch.enumerated() {
                    if stop.isRequested {
                        // Stopping: what is not sent yet goes back to the outbox now, rather than
                        // waiting for its lease to run out.
                        try NotificationStore.release(ids: batch[index...].map(\.id), sender: id, on: db)
                        break
                    }
                    if interval > 0 {
                        let wait = lastSend + interval - monotonicNow()
                        if wait > 0 { usleepSeconds(wait) }
                        lastSend = monotonicNow()
                    }
                    switch try deliver(notification, smtp: &smtp, unrecorded: &unrecorded, on: db) {
                    case .sent: sent += 1
                    case .retry: retried += 1
                    case .failed: failed += 1
                    case .leaseLost: lost += 1
                    }
                }
                NotifierMetrics.shared.batchFinished(since: started)
                logger.info("batch_sent", [("loop", id), ("claimed", batch.count), ("sent", sent), ("retry", retried),
                                           ("failed", failed), ("lease_lost", lost), ("ms", String(format: "%.1f", (monotonicNow() - started) * 1000))])
            } catch {
                if database.recover(from: error) { continue }
                logger.error("loop_error", [("loop", id), ("error", "\(error)")])
                stop.sleep(configuration.pollSeconds)
            }
        }
    }

    enum Outcome { case sent, retry, failed, leaseLost }

    /// Renders and sends one notification, and records the outcome; database errors propagate.
    ///
    /// Just before the message goes out, the lease is taken again for longer than the slowest
    /// send the SMTP timeouts allow (`SMTPTimeouts.worstCaseSend`), so no other sender can claim
    /// the row while this one may still be talking to the relay. When even that renewal finds the
    /// row in other hands (a slow batch outlasted the claim's lease), the row is left to them.
    private func deliver(_ notification: ClaimedNotification, smtp: inout SMTPConnection?,
                         unrecorded: inout [UnrecordedSend], on db: PostgresConnection) throws(PostgresError) -> Outcome {
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
            guard recorded else { return outcomeWithoutLease(notification, outcome: "failed") }
            logger.warn("notification_failed", [("id", notification.id), ("reference", notification.reference),
                                                ("reason", "invalid message or address")])
            NotifierMetrics.shared.email(.failed, reason: "invalid_message", recipient: notification.recipientKind)
            return .failed
        }
        let lease = max(configuration.notifierLeaseSeconds,
                        notifier.smtp.timeouts.worstCaseSend(dataBytes: data.count, recipients: envelope.recipients.count) + 30)
        // A connection kept from an earlier batch may have been closed by the relay while idle;
        // that shows as a failure of its first command, and the message then goes at once on a
        // new connection instead of waiting for a retry.
        var freshRetryAllowed = true
        while true {
            guard try NotificationStore.renewLease(id: notification.id, sender: id, leaseSeconds: lease, on: db) else {
                logger.warn("notification_lease_lost", [("loop", id), ("id", notification.id)])
                return .leaseLost
            }
            var reused = false
            do {
                if smtp == nil || smtp?.isUsable == false {
                    smtp?.close()
                    smtp = try SMTPConnection(configuration: notifier.smtp, tls: notifier.tls, observe: NotifierMetrics.shared.smtpPhase)
                } else {
                    reused = true
                }
                guard let connection = smtp else { throw SMTPError(.unusableConnection, phase: "connect") }
                let reply = try connection.send(envelope, data: data)
                let sent = UnrecordedSend(notification: notification, messageID: message.messageID, reply: reply.description)
                guard try recordSent(sent, unrecorded: &unrecorded, on: db) else {
                    return outcomeWithoutLease(notification, outcome: "sent")
                }
                logger.debug("notification_sent", [("id", notification.id), ("reference", notification.reference)])
                NotifierMetrics.shared.email(.sent, reason: "ok", recipient: notification.recipientKind)
                return .sent
            } catch let error as SMTPError {
                if smtp?.isUsable == false { smtp?.close(); smtp = nil }
                if reused && freshRetryAllowed && !error.isPermanent && error.phase == "MAIL" {
                    freshRetryAllowed = false
                    smtp?.close()
                    smtp = nil
                    logger.info("smtp_stale_connection", [("loop", id), ("id", notification.id), ("kind", error.kind.rawValue)])
                    continue
                }
                return try record(error, for: notification, on: db)
            } catch let error as PostgresError {
                throw error
            } catch {
                guard try NotificationStore.markFailed(id: notification.id, error: "\(error)", reply: nil, sender: id, on: db) else {
                    return outcomeWithoutLease(notification, outcome: "failed")
                }
                NotifierMetrics.shared.email(.failed, reason: "other", recipient: notification.recipientKind)
                return .failed
            }
        }
    }

    /// A message the relay accepted whose record has not reached the database yet.
    struct UnrecordedSend {
        let notification: ClaimedNotification
        let messageID: String
        let reply: String
    }

    /// Records a message the relay took. When the database connection fails right then, the
    /// relay has the message and only its record is missing: left to the lease it would be sent
    /// again, so it is kept to be recorded on the next connection.
    private func recordSent(_ sent: UnrecordedSend, unrecorded: inout [UnrecordedSend],
                            on db: PostgresConnection) throws(PostgresError) -> Bool {
        do {
            return try NotificationStore.markSent(id: sent.notification.id, messageID: sent.messageID, reply: sent.reply,
                                                  sender: id, on: db)
        } catch {
            if error.isConnectionProblem { unrecorded.append(sent) }
            throw error
        }
    }

    /// Records the sends a lost connection left unrecorded, on the new connection.
    private func recordLate(_ unrecorded: inout [UnrecordedSend], on db: PostgresConnection) throws(PostgresError) {
        while let send = unrecorded.first {
            if try NotificationStore.markSent(id: send.notification.id, messageID: send.messageID, reply: send.reply,
                                              sender: id, on: db) {
                logger.info("notification_recorded_late", [("loop", id), ("id", send.notification.id)])
            } else {
                _ = outcomeWithoutLease(send.notification, outcome: "sent")
            }
            unrecorded.removeFirst()
        }
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
