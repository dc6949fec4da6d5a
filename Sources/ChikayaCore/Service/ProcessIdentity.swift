import Foundation

/// How a worker or notifier process names itself in leases, decisions and logs: `host:pid`, so
/// that an operator can tell which machine and process holds or made what.
enum ProcessIdentity {
    static let name = "\(ProcessInfo.processInfo.hostName):\(getpid())"
}
