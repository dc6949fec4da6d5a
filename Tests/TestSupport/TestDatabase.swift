import Foundation
import Postgres

/// A database of its own for one test, on the cluster that `scripts/test` started
/// (`DATABASE_URL`), so integration tests can run in parallel without seeing each other.
public final class TestDatabase: Sendable {
    /// The cluster's URL, or nil when the tests run without `scripts/test`.
    public static let clusterURL: String? = {
        let url = ProcessInfo.processInfo.environment["DATABASE_URL"]
        return (url?.isEmpty ?? true) ? nil : url
    }()

    /// True when a cluster is available; integration tests use `.enabled(if: TestDatabase.available)`.
    public static var available: Bool { clusterURL != nil }

    public let name: String
    /// A URL naming this test's database.
    public let url: String

    /// Creates an empty database named after the test (plus a random suffix).
    public init(_ label: String = "t") throws {
        guard let cluster = Self.clusterURL else {
            throw PostgresError(code: .connectionFailed, message: "DATABASE_URL is not set: run the tests through scripts/test")
        }
        let safe = label.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        name = "t_" + String(String.UnicodeScalarView(safe.prefix(30))) + "_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        url = Self.replacingDatabase(in: cluster, with: name)
        let admin = try PostgresConnection.connect(url: cluster, applicationName: "chikaya-tests")
        try admin.executeScript("CREATE DATABASE \(try admin.quoteIdentifier(name))")
    }

    /// Opens a connection to this test's database.
    public func connect(_ application: String = "chikaya-tests") throws -> PostgresConnection {
        try PostgresConnection.connect(url: url, applicationName: application)
    }

    /// Drops the database; sessions still connected are terminated first.
    public func drop() {
        guard let cluster = Self.clusterURL,
              let admin = try? PostgresConnection.connect(url: cluster, applicationName: "chikaya-tests"),
              let quoted = try? admin.quoteIdentifier(name) else { return }
        _ = try? admin.executeScript("DROP DATABASE IF EXISTS \(quoted) WITH (FORCE)")
    }

    /// Replaces the path of a `postgresql://` URL (the database name), keeping any query.
    static func replacingDatabase(in url: String, with database: String) -> String {
        guard let scheme = url.range(of: "://") else { return url + " dbname=\(database)" }
        let afterScheme = url[scheme.upperBound...]
        let query = afterScheme.firstIndex(of: "?")
        let authority = afterScheme[..<(query ?? afterScheme.endIndex)]
        let host = authority.firstIndex(of: "/").map { authority[..<$0] } ?? authority
        let rest = query.map { String(afterScheme[$0...]) } ?? ""
        return String(url[..<scheme.upperBound]) + host + "/" + database + rest
    }
}
