import Postgres
import Synchronization

/// Opens connections for one role of the product (worker, notifier, a command), so every
/// session is named in `pg_stat_activity`.
public struct Database: Sendable {
    public let url: String?
    public let role: String

    public init(configuration: Configuration, role: String) {
        self.url = configuration.databaseURL
        self.role = role
    }

    public func connect(timeout: Int = 10) throws(PostgresError) -> PostgresConnection {
        try PostgresConnection.connect(url: url, applicationName: "chikaya-\(role)", connectTimeout: timeout)
    }

    /// The warning for a session that crosses a network in plain text (TCP to a host other than
    /// this machine, without TLS): passwords and citizens' data would travel readable. Nil for a
    /// Unix socket, loopback, or an encrypted session.
    public static func plainTextWarning(_ transport: PostgresTransport) -> (host: String, setting: String)? {
        guard case .tcp(let host, let encrypted) = transport, !encrypted, !isLoopback(host) else { return nil }
        return (host, "sslmode=verify-full and sslrootcert=CA-FILE in DATABASE_URL (the server must have ssl = on)")
    }

    static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased()
        return name == "localhost" || name.hasSuffix(".localhost") || name.hasPrefix("127.") || name == "::1"
    }

    private static let warned = Mutex(false)

    /// Logs the plain-text warning once per process (a service opens one connection per loop).
    static func warnIfPlainText(_ connection: PostgresConnection, logger: Logger) {
        guard let warning = plainTextWarning(connection.transport) else { return }
        let first = warned.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        logger.warn("database_unencrypted", [("host", warning.host), ("set", warning.setting)])
    }
}
