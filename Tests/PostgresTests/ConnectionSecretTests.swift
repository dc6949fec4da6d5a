import Foundation
import Postgres
import Testing

/// A password in DATABASE_URL never reaches an error message (and so never a log line).
/// These need no server: the connections fail before or at the TCP connect.
@Suite struct ConnectionSecretUnitTests {
    @Test func unparsableURLIsNotQuoted() {
        // libpq's own parse error would quote the bad escape, password and all.
        do {
            _ = try PostgresConnection.connect(url: "postgresql://user:ab%zzSECRET@127.0.0.1:1/db", applicationName: "tests")
            Issue.record("a malformed URL must not connect")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(!error.description.contains("SECRET"))
            #expect(error.description.contains("cannot be parsed"))
        }
    }

    @Test func refusedConnectionDoesNotShowThePassword() {
        do {
            _ = try PostgresConnection.connect(url: "postgresql://user:TopSecret42@127.0.0.1:1/db", applicationName: "tests",
                                               connectTimeout: 2)
            Issue.record("nothing listens on port 1")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(!error.description.contains("TopSecret42"))
        }
    }

    @Test func conninfoWithAMissingEqualsIsNotQuoted() {
        do {
            _ = try PostgresConnection.connect(url: "host=127.0.0.1 port=1 password SuperSecret7", applicationName: "tests")
            Issue.record("a malformed conninfo must not connect")
        } catch {
            #expect(!error.description.contains("SuperSecret7"))
        }
    }
}
