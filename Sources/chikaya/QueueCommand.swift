import ChikayaCore
import Foundation

/// `chikaya queue`: the routing queue's state, its dead letters, and requeueing them.
enum QueueCommand: Command {
    static let name = "queue"
    static let summary = "show the routing queue, its dead letters, and requeue them"
    static let usage = """
    usage: chikaya queue status
           chikaya queue dead [--limit N]
           chikaya queue retry REFERENCE | --all-dead

    status   pending and leased entries, dead letters, age of the oldest pending complaint,
             complaints routed in the last minute
    dead     complaints whose routing failed worker.max_attempts times, with their last error
    retry    put a dead complaint (or all of them) back in the queue with fresh attempts

    options:
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "queue")
        guard let sub = arguments.positional() else {
            throw CLIError.usage("queue: missing sub-command (status, dead or retry)")
        }
        switch sub {
        case "status":
            try arguments.finish()
            let db = try runtime.connect(role: "queue")
            let status: QueueStatus
            let rules: RulesState
            do {
                status = try QueueStore.status(on: db)
                rules = try RulesState.load(on: db)
            } catch { throw CLIError.database(error) }
            print("pending            \(status.pending)")
            print("leased             \(status.leased)")
            print("dead               \(status.dead)")
            print("oldest pending     \(status.oldestPendingSeconds.map(Duration.human) ?? "-")")
            print("routed last minute \(status.routedLastMinute)")
            if let latest = rules.latest {
                print("rules published    \(latest.version) (publication \(latest.id))")
            }
            if let refusal = rules.refusal, let latest = rules.latest {
                let reason = refusal.split(separator: "\n").first.map(String.init) ?? refusal
                print("rules refused      publication \(latest.id) cannot be loaded: \(reason)")
                print("                   workers keep routing with the rules they have and try again; publish a valid file")
            }
            print("decisions use      \(rules.lastDecisionVersion ?? "-")")
        case "dead":
            let limit = try arguments.intOption("--limit", default: 50, range: 1...100_000)
            try arguments.finish()
            let db = try runtime.connect(role: "queue")
            let entries: [DeadEntry]
            do { entries = try QueueStore.dead(on: db, limit: limit) } catch { throw CLIError.database(error) }
            if entries.isEmpty { print("no dead complaints") }
            for entry in entries {
                print("\(entry.reference)\tattempts=\(entry.attempts)\t\(TextOutput.escaped(entry.lastError ?? ""))")
            }
        case "retry":
            let all = arguments.flag("--all-dead")
            let reference = arguments.positional()
            try arguments.finish()
            guard all != (reference != nil) else {
                throw CLIError.usage("queue retry: give either a REFERENCE or --all-dead")
            }
            let db = try runtime.connect(role: "queue")
            let count: Int
            do { count = try QueueStore.retry(reference: reference, on: db) } catch { throw CLIError.database(error) }
            if let reference, count == 0 {
                throw CLIError.dataError("queue retry: \(reference) is not a dead complaint")
            }
            print("requeued \(count) complaint\(count == 1 ? "" : "s")")
        default:
            throw CLIError.usage("queue: unknown sub-command '\(sub)' (status, dead or retry)")
        }
        return 0
    }
}
