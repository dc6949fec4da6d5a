import Postgres

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
}
