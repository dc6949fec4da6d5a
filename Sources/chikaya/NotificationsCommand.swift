import ChikayaCore
import Foundation

/// `chikaya notifications status`: how the outbox is doing.
enum NotificationsCommand: Command {
    static let name = "notifications"
    static let summary = "show the notification outbox: pending, sent, failed"
    static let usage = """
    usage: chikaya notifications status [--failures N]

    Prints pending, sent and failed counts per recipient kind (citizen, department), the age of
    the oldest pending notification, and the last failures with the server's reply.

    options:
      --failures N        how many recent failures to list (default: 10)
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "notifications")
        let sub = try arguments.requiredPositional("sub-command (status)")
        guard sub == "status" else {
            throw CLIError.usage("notifications: unknown sub-command '\(sub)' (status)")
        }
        let failures = try arguments.intOption("--failures", default: 10, range: 0...1_000)
        try arguments.finish()
        let db = try runtime.connect(role: "notifications")
        let summary: NotificationSummary
        do { summary = try NotificationStore.summary(on: db, failures: failures) } catch { throw CLIError.database(error) }
        print("recipient    pending     sent   failed")
        for row in summary.counts {
            print(row.kind.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(format: " %9d %8d %8d", row.pending, row.sent, row.failed))
        }
        if summary.counts.isEmpty { print("(no notifications yet)") }
        for row in summary.returned {
            print("\(row.kind): \(row.bounced) bounced, \(row.suppressed) not sent (address suppressed; 'chikaya suppressions list')")
        }
        print("oldest pending: \(summary.oldestPendingSeconds.map(Duration.human) ?? "-")")
        if !summary.recentFailures.isEmpty {
            print("last failures:")
            for failure in summary.recentFailures {
                print("  \(failure.reference)  \(failure.recipientKind)  notification \(failure.id)  \(TextOutput.escaped(failure.error))")
            }
        }
        return 0
    }
}
