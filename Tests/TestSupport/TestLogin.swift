import Foundation
import Postgres

/// A database login of its own for one test (`CREATE ROLE ... LOGIN PASSWORD ... IN ROLE ...`),
/// so that a test connects the way an operator's service does and meets the grants and
/// row-level security that role has. Roles are cluster-wide while tests run in parallel: the
/// name carries a random suffix, and `drop()` removes it.
public final class TestLogin: Sendable {
    public let name: String
    let password: String

    /// Creates the login as a member of `roles` (e.g. `["chikaya_staff"]`); the roles must exist
    /// (a database migrated to the least-privilege migration creates them).
    public init(_ label: String, in roles: [String]) throws {
        guard let cluster = TestDatabase.clusterURL else {
            throw PostgresError(code: .connectionFailed, message: "DATABASE_URL is not set: run the tests through scripts/test")
        }
        let safe = label.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        name = "l_" + String(String.UnicodeScalarView(safe.prefix(20))) + "_" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        password = String((0..<24).map { _ in letters.randomElement()! })
        let admin = try PostgresConnection.connect(url: cluster, applicationName: "chikaya-tests")
        let quotedRoles = try roles.map { try admin.quoteIdentifier($0) }.joined(separator: ", ")
        // CREATE ROLE takes no parameters; the name and password are ours, made of [a-z0-9_] and
        // [A-Za-z0-9] above, and quoted all the same.
        var sql = "CREATE ROLE \(try admin.quoteIdentifier(name)) LOGIN PASSWORD '\(password)'"
        if !roles.isEmpty { sql += " IN ROLE \(quotedRoles)" }
        try admin.executeScript(sql)
    }

    /// The URL of `database` with this login and its password.
    public func url(for database: TestDatabase) -> String {
        Self.replacingUser(in: database.url, user: name, password: password)
    }

    public func connect(_ database: TestDatabase, application: String = "chikaya-tests") throws -> PostgresConnection {
        try PostgresConnection.connect(url: url(for: database), applicationName: application)
    }

    /// Drops the login; drop the test's database first (its sessions end with it).
    public func drop() {
        guard let cluster = TestDatabase.clusterURL,
              let admin = try? PostgresConnection.connect(url: cluster, applicationName: "chikaya-tests"),
              let quoted = try? admin.quoteIdentifier(name) else { return }
        _ = try? admin.executeScript("DROP ROLE IF EXISTS \(quoted)")
    }

    /// Puts `user:password@` in a `postgresql://` URL in place of its user information.
    static func replacingUser(in url: String, user: String, password: String) -> String {
        guard let scheme = url.range(of: "://") else { return url + " user=\(user) password=\(password)" }
        var rest = url[scheme.upperBound...]
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        if let at = rest[..<hostEnd].lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return String(url[..<scheme.upperBound]) + "\(user):\(password)@" + rest
    }
}
