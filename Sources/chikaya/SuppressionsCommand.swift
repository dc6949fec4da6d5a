import ChikayaCore
import Foundation

/// `chikaya suppressions list / remove ADDRESS`: the addresses we never write to.
enum SuppressionsCommand: Command {
    static let name = "suppressions"
    static let summary = "list or remove suppressed email addresses (bounces, unsubscribes)"
    static let usage = """
    usage: chikaya suppressions list [--limit N]
           chikaya suppressions remove ADDRESS

    An address is suppressed after a permanent bounce, after \(InboundStore.transientLimit) transient \
    bounces within \(InboundStore.transientWindowDays) days, or when a citizen unsubscribes;
    notifications to it are marked 'suppressed' instead of being sent. 'remove' takes an address
    off the list (its bounce history stays), for example once an office has fixed its mailbox.

    options:
      --limit N           how many to list, newest first (default: 100)
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "suppressions")
        let sub = try arguments.requiredPositional("sub-command (list or remove)")
        switch sub {
        case "list":
            let limit = try arguments.intOption("--limit", default: 100, range: 1...100_000)
            try arguments.finish()
            let db = try runtime.connect(role: "suppressions")
            let rows: [SuppressedAddress]
            do { rows = try InboundStore.suppressions(limit: limit, on: db) } catch { throw CLIError.database(error) }
            guard !rows.isEmpty else {
                print("(no suppressed address)")
                return 0
            }
            var table = TextTable(["address", "reason", "status", "bounces", "kind", "since"], rightAligned: [3])
            for row in rows {
                table.add([row.address, row.reason, row.status ?? "-", String(row.bounceCount), row.recipientKind ?? "-",
                           ISO8601DateFormatter().string(from: row.suppressedAt)])
            }
            print(table.render())
            return 0
        case "remove":
            let address = try arguments.requiredPositional("ADDRESS")
            try arguments.finish()
            let db = try runtime.connect(role: "suppressions")
            let removed: Bool
            do { removed = try InboundStore.unsuppress(address: address, on: db) } catch { throw CLIError.database(error) }
            guard removed else { throw CLIError.dataError("suppressions: \(address) is not suppressed") }
            print("removed \(address.lowercased()) from the suppression list")
            return 0
        default:
            throw CLIError.usage("suppressions: unknown sub-command '\(sub)' (list, remove)")
        }
    }
}
