import Foundation
import Postgres
import Testing
import TestSupport

/// The test cluster offers TLS with a certificate of its own CA (scripts/lib/pg-cluster.sh): a
/// client that verifies the server (sslmode=verify-full) gets in with that CA and is refused
/// with any other, which is what protects a worker talking to the database across a network.
@Suite("TLS to PostgreSQL with verify-full (integration)",
       .enabled(if: TestDatabase.available && ProcessInfo.processInfo.environment["CHIKAYA_TEST_PG_CA"] != nil))
struct TLSIntegrationTests {
    static func with(_ url: String, _ settings: String) -> String {
        url + (url.contains("?") ? "&" : "?") + settings
    }

    @Test func verifyFullAcceptsTheServersCAAndRefusesAnother() throws {
        let environment = ProcessInfo.processInfo.environment
        let cluster = try #require(TestDatabase.clusterURL)
        let ca = try #require(environment["CHIKAYA_TEST_PG_CA"])
        let wrong = try #require(environment["CHIKAYA_TEST_PG_WRONG_CA"])

        let verified = try PostgresConnection.connect(url: Self.with(cluster, "sslmode=verify-full&sslrootcert=\(ca)"),
                                                      applicationName: "chikaya-tls-test")
        let ssl: Bool = try verified.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").single().decode(0)
        #expect(ssl)
        #expect(verified.transport == .tcp(host: "127.0.0.1", encrypted: true))

        do {
            _ = try PostgresConnection.connect(url: Self.with(cluster, "sslmode=verify-full&sslrootcert=\(wrong)"),
                                               applicationName: "chikaya-tls-test")
            Issue.record("a server whose certificate the given CA did not sign was accepted")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.message.contains("certificate"), "\(error.message)")
        }

        // The password stays out of the message whatever fails.
        let plain = try PostgresConnection.connect(url: Self.with(cluster, "sslmode=disable"), applicationName: "chikaya-tls-test")
        #expect(plain.transport == .tcp(host: "127.0.0.1", encrypted: false))
    }
}
