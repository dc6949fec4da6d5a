import CLibPQ
import Glibc

/// A message received on a channel this connection listens to.
public struct PostgresNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    public let senderPID: Int32
}

extension PostgresConnection {
    /// Starts listening on `channel`; notifications are read with `waitForNotifications`.
    public func listen(_ channel: String) throws(PostgresError) {
        try executeScript("LISTEN \(try quoteIdentifier(channel))")
    }

    public func unlisten(_ channel: String) throws(PostgresError) {
        try executeScript("UNLISTEN \(try quoteIdentifier(channel))")
    }

    /// Sends a notification through `pg_notify`, so the payload is a bound parameter.
    public func notify(_ channel: String, payload: String = "") throws(PostgresError) {
        try query("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// Waits up to `timeout` seconds for notifications, sleeping in `poll` on the connection's
    /// socket (no busy loop). Returns every notification that arrived, or none on time-out.
    public func waitForNotifications(timeout: Double) throws(PostgresError) -> [PostgresNotification] {
        try settleSent()
        let deadline = ContinuousClock.now + .seconds(max(timeout, 0))
        while true {
            guard PQconsumeInput(rawHandle) == 1 else {
                throw PostgresError(code: .connectionLost, message: "connection lost while waiting for notifications")
            }
            let received = drainNotifications()
            if !received.isEmpty { return received }
            let remaining = ContinuousClock.now.duration(to: deadline) / .milliseconds(1)
            if remaining <= 0 { return [] }
            let socket = PQsocket(rawHandle)
            guard socket >= 0 else {
                throw PostgresError(code: .connectionLost, message: "the connection has no socket")
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(min(remaining, Double(Int32.max)).rounded(.up))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 && errno != EINTR {
                throw PostgresError(code: .connectionLost, message: "poll failed on the connection's socket (errno \(errno))")
            }
        }
    }

    private func drainNotifications() -> [PostgresNotification] {
        var received: [PostgresNotification] = []
        while let raw = PQnotifies(rawHandle) {
            let note = raw.pointee
            received.append(PostgresNotification(channel: String(cString: note.relname),
                                                 payload: note.extra.map { String(cString: $0) } ?? "",
                                                 senderPID: note.be_pid))
            PQfreemem(raw)
        }
        return received
    }
}
