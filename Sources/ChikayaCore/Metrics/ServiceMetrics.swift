import Foundation
import Metrics

/// The routing worker's figures on `/metrics`. One call at each point of the loop; the work of
/// grouping a batch's outcomes is done here, under one lock per metric.
public final class RoutingMetrics: Sendable {
    /// The process's instance, registered in `MetricsRegistry.process` on first use.
    public static let shared = RoutingMetrics(registry: .process)

    let routed: Counter
    let confidence: Histogram
    let batchDuration: Histogram
    let claimDuration: Histogram
    let claimed: Counter
    let failures: Counter
    let deadLetters: Counter

    /// Confidence as the classifier computes it, from 0 (triage by default) to 1.
    static let confidenceBuckets: [Double] = [0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]

    init(registry: MetricsRegistry) {
        routed = registry.counter("chikaya_routed_complaints_total",
                                  help: "Complaints routed by this process, per department chosen.", labels: ["department"])
        confidence = registry.histogram("chikaya_routing_decision_confidence",
                                        help: "Confidence of the routing decisions of this process (0 to 1).",
                                        buckets: Self.confidenceBuckets)
        batchDuration = registry.histogram("chikaya_routing_batch_duration_seconds",
                                           help: "Time to classify and write one claimed batch.",
                                           buckets: Histogram.durationBuckets)
        claimDuration = registry.histogram("chikaya_routing_claim_duration_seconds",
                                           help: "Time of one claim statement on the routing queue, empty claims included.",
                                           buckets: Histogram.durationBuckets)
        claimed = registry.counter("chikaya_routing_claimed_complaints_total", help: "Complaints claimed from the routing queue.")
        failures = registry.counter("chikaya_routing_failures_total",
                                    help: "Routing attempts that failed (retried later, or set aside as dead).")
        deadLetters = registry.counter("chikaya_routing_dead_letters_total",
                                       help: "Complaints set aside as dead by this process after worker.max_attempts.")
    }

    /// A claim statement's duration and what it returned.
    public func claimed(_ count: Int, since started: Double) {
        claimDuration.observe(monotonicNow() - started)
        claimed.increment(by: Double(count))
    }

    /// A batch finished: the outcomes written (those not in `failedIDs`) per department and
    /// confidence, and the batch's duration.
    public func batchFinished(_ outcomes: [RoutingOutcome], failedIDs: [Int64], since started: Double) {
        let failed = Set(failedIDs)
        var perDepartment: [String: Double] = [:]
        var confidences: [Double] = []
        confidences.reserveCapacity(outcomes.count)
        for outcome in outcomes where !failed.contains(outcome.complaintID) {
            perDepartment[outcome.department, default: 0] += 1
            confidences.append(outcome.confidence)
        }
        routed.add(perDepartment.map { ([$0.key], $0.value) })
        confidence.observe(confidences)
        batchDuration.observe(monotonicNow() - started)
    }

    /// One failed attempt; `dead` when it used up the attempts.
    public func failed(dead: Bool) {
        failures.increment()
        if dead { deadLetters.increment() }
    }
}

/// The notifier's figures on `/metrics`.
public final class NotifierMetrics: Sendable {
    public static let shared = NotifierMetrics(registry: .process)

    /// What became of one email.
    public enum Outcome: String, Sendable {
        case sent, retried, failed
    }

    let emails: Counter
    let smtpPhases: Histogram
    let batchDuration: Histogram

    init(registry: MetricsRegistry) {
        emails = registry.counter("chikaya_emails_total",
                                  help: "Emails handled by this process: sent, retried later or failed for good, per recipient kind and reason.",
                                  labels: ["outcome", "reason", "recipient"])
        smtpPhases = registry.histogram("chikaya_smtp_phase_duration_seconds",
                                       help: "SMTP phases: connect (TCP), tls, greeting, ehlo, auth, envelope (MAIL to DATA's 354), data (the message to the final reply).",
                                       labels: ["phase"], buckets: Histogram.durationBuckets)
        batchDuration = registry.histogram("chikaya_notifier_batch_duration_seconds",
                                           help: "Time to send and record one claimed batch of notifications.",
                                           buckets: Histogram.durationBuckets)
    }

    /// One email's outcome; `reason` is `ok`, an SMTP reply code (`smtp_550`), an error kind
    /// (`timeout`), `expired` or `invalid_message`.
    public func email(_ outcome: Outcome, reason: String, recipient: String) {
        emails.increment(outcome.rawValue, reason, recipient)
    }

    /// The reason label of an SMTP failure: the reply's code when there is one, else its kind.
    public static func reason(_ error: SMTPError) -> String {
        if let reply = error.reply { return "smtp_\(reply.code)" }
        return snakeCase(error.kind.rawValue)
    }

    /// One SMTP phase's duration, as `SMTPConnection` reports it.
    public func smtpPhase(_ phase: String, seconds: Double) {
        smtpPhases.observe(seconds, phase)
    }

    public func batchFinished(since started: Double) {
        batchDuration.observe(monotonicNow() - started)
    }

    static func snakeCase(_ text: String) -> String {
        var out = ""
        for character in text {
            if character.isUppercase {
                out += "_" + character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
