import Foundation
import Testing
@testable import ChikayaCore

/// Configuration is loaded from a file and then the environment; every problem names where the
/// value came from (file:line or environment variable) and the key.
@Suite struct ConfigurationUnitTests {
    /// A config file in a fresh temporary directory, removed by the caller.
    func writeConfig(_ text: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chikaya-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("chikaya.conf")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func fileValuesAreReadAndEnvironmentOverridesThem() throws {
        let file = try writeConfig("""
            # comments and blank lines are skipped

            database_url = postgresql://file@db.example/chikaya
            log_level = DEBUG
            worker.batch = 7
            worker.lease_seconds = 2.5
            """)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let configuration = try Configuration.load(path: file.path, environment: [
            "DATABASE_URL": "postgresql://env@db.example/other",
            "CHIKAYA_WORKER_BATCH": "9",
        ])
        #expect(configuration.databaseURL == "postgresql://env@db.example/other")
        #expect(configuration.workerBatch == 9)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.leaseSeconds == 2.5)
        // Untouched keys keep their defaults.
        #expect(configuration.maxAttempts == Configuration().maxAttempts)
    }

    /// A value may be followed by a comment after white space; a '#' inside a value stays.
    @Test func trailingCommentsAreDropped() throws {
        let file = try writeConfig("""
            worker.batch = 42        # why this size
            tracking_url = https://ville.example/suivi#complaint
            """)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let configuration = try Configuration.load(path: file.path, environment: [:])
        #expect(configuration.workerBatch == 42)
        #expect(configuration.trackingURL == "https://ville.example/suivi#complaint")
    }

    /// The example configuration committed in config/ loads without a problem.
    @Test func shippedExampleLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let configuration = try Configuration.load(path: root.appendingPathComponent("config/chikaya.conf").path, environment: [:])
        #expect(configuration.rulesFile == "config/routing-rules.conf")
        #expect(configuration.workerBatch == 1_000)
    }

    /// A file saved by a Windows editor has CRLF line ends; Swift reads "\r\n" as one Character.
    @Test func windowsLineEndsAreRead() throws {
        let file = try writeConfig("# edited on Windows\r\nworker.batch = 8\r\nlog_level = warn\r\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let configuration = try Configuration.load(path: file.path, environment: [:])
        #expect(configuration.workerBatch == 8)
        #expect(configuration.logLevel == .warn)
    }

    @Test func configFileCanBeNamedByTheEnvironment() throws {
        let file = try writeConfig("worker.max_attempts = 3\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let configuration = try Configuration.load(environment: ["CHIKAYA_CONFIG": file.path])
        #expect(configuration.maxAttempts == 3)
    }

    @Test func inboundLocalPartsAndAdminEmailAreCheckedAndDistinct() throws {
        let file = try writeConfig("inbound_reply_local_part = Retour\nadmin_email = Admin@Casablanca.ma\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let configuration = try Configuration.load(path: file.path, environment: ["CHIKAYA_INBOUND_BOUNCE_LOCAL_PART": "retours.nd"])
        #expect(configuration.inboundLocalParts == [.bounce: "retours.nd", .reply: "retour", .unsubscribe: "unsubscribe"])
        #expect(configuration.adminEmail == "admin@casablanca.ma")
        for (key, value) in [("CHIKAYA_INBOUND_REPLY_LOCAL_PART", "re+ply"), ("CHIKAYA_INBOUND_REPLY_LOCAL_PART", ""),
                             ("CHIKAYA_ADMIN_EMAIL", "not an address")] {
            #expect(throws: ConfigurationError.self, "\(key)=\(value)") {
                try Configuration.load(path: file.path, environment: [key: value])
            }
        }
        do {
            _ = try Configuration.load(path: file.path, environment: ["CHIKAYA_INBOUND_UNSUBSCRIBE_LOCAL_PART": "retour"])
            Issue.record("two kinds of address with one local part were accepted")
        } catch {
            #expect("\(error)".contains("must differ"))
        }
    }

    @Test func emptyDatabaseURLMeansLibpqEnvironment() throws {
        let file = try writeConfig("database_url = postgresql://x/y\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let configuration = try Configuration.load(path: file.path, environment: ["DATABASE_URL": ""])
        #expect(configuration.databaseURL == nil)
    }

    @Test func unknownKeyIsReportedWithFileAndLine() throws {
        let file = try writeConfig("""
            # line 1
            log_level = info
            worker.batchsize = 10
            """)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let error = try #require(throws: ConfigurationError.self) {
            try Configuration.load(path: file.path, environment: [:])
        }
        #expect(error.problems == ["\(file.path):3: unknown key 'worker.batchsize'"])
    }

    @Test func badValuesAreReportedTogetherWithFileLineKeyAndReason() throws {
        let file = try writeConfig("""
            worker.batch = lots
            log_level = loud
            not a setting
            default_language = en
            """)
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let error = try #require(throws: ConfigurationError.self) {
            try Configuration.load(path: file.path, environment: ["CHIKAYA_WORKER_CONCURRENCY": "0"])
        }
        try #require(error.problems.count == 5)
        #expect(error.problems[0].hasPrefix("\(file.path):1: worker.batch: 'lots'"))
        #expect(error.problems[1].hasPrefix("\(file.path):2: log_level: 'loud'"))
        #expect(error.problems[2] == "\(file.path):3: expected 'key = value'")
        #expect(error.problems[3].hasPrefix("\(file.path):4: default_language: 'en'"))
        #expect(error.problems[4].hasPrefix("environment CHIKAYA_WORKER_CONCURRENCY: '0'"))
        #expect(error.description.split(separator: "\n").count == 5)
    }

    @Test func outOfRangeNumbersAreRefused() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try Configuration.load(path: "/nonexistent/none.conf", environment: ["CHIKAYA_LEASE_SECONDS": "0"])
        }
        // Both the missing explicit file and the bad value are reported.
        #expect(error.problems.contains("/nonexistent/none.conf: cannot read the configuration file"))
        #expect(error.problems.contains { $0.hasPrefix("environment CHIKAYA_LEASE_SECONDS: '0'") })
    }

    @Test func missingDefaultFileIsNotAnError() throws {
        // Without --config or CHIKAYA_CONFIG the default file is optional; the process runs in the
        // package directory, which has no config/chikaya.conf with bad values.
        let configuration = try Configuration.load(path: nil, environment: ["DATABASE_URL": "postgresql://a/b"])
        #expect(configuration.databaseURL == "postgresql://a/b")
    }

    /// A secret file: mode 600 is read (its one line, without the line break); readable by
    /// others is refused with what to do; both sources at once is an error.
    @Test func secretsComeFromFilesOnlyTheirOwnerCanRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chikaya-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("database_url").path
        let smtp = directory.appendingPathComponent("smtp_url").path
        try "postgresql://router_1:s3cret@db.example/chikaya\n".write(toFile: database, atomically: true, encoding: .utf8)
        try "smtp://mailer:pw@relay.example:587?tls=starttls\n".write(toFile: smtp, atomically: true, encoding: .utf8)
        chmod(database, 0o600)
        chmod(smtp, 0o640)
        let empty = try writeConfig("")
        defer { try? FileManager.default.removeItem(at: empty.deletingLastPathComponent()) }
        let configuration = try Configuration.load(path: empty.path, environment: [
            "DATABASE_URL_FILE": database, "CHIKAYA_SMTP_URL_FILE": smtp,
        ])
        #expect(configuration.databaseURL == "postgresql://router_1:s3cret@db.example/chikaya")
        #expect(configuration.smtpURL == "smtp://mailer:pw@relay.example:587?tls=starttls")

        let file = try writeConfig("database_url_file = \(database)\n")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        #expect(try Configuration.load(path: file.path, environment: [:]).databaseURL?.hasPrefix("postgresql://router_1") == true)

        chmod(database, 0o644)
        do {
            _ = try Configuration.load(path: file.path, environment: [:])
            Issue.record("a world-readable secret file was accepted")
        } catch {
            #expect(error.description.contains("\(file.path):1: database_url_file: \(database) is readable or writable by other users (mode 644)"),
                    "\(error.description)")
            #expect(error.description.contains("chmod 600"))
            #expect(!error.description.contains("s3cret"), "the secret is never quoted")
        }
        chmod(database, 0o600)
        do {
            _ = try Configuration.load(path: empty.path, environment: ["DATABASE_URL": "postgresql://x@y/z",
                                                                       "DATABASE_URL_FILE": database])
            Issue.record("two sources of one secret were accepted")
        } catch {
            #expect(error.description.contains("both DATABASE_URL and DATABASE_URL_FILE"))
        }
    }

    @Test func aConfigurationLineThatIsNotUTF8IsAnErrorWithItsLine() throws {
        let file = try writeConfig("")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        try Data(Array("log_level = info\n# caf".utf8) + [0xE9] + Array(" latin-1\n".utf8)).write(to: file)
        do {
            _ = try Configuration.load(path: file.path, environment: [:])
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.description == "\(file.path):2: not valid UTF-8 (save the file as UTF-8)")
        }
    }

    @Test func aBadSenderOrTrackingURLStopsTheStart() throws {
        let empty = try writeConfig("")
        defer { try? FileManager.default.removeItem(at: empty.deletingLastPathComponent()) }
        for (key, value) in [("CHIKAYA_MAIL_FROM", "Chikaya <no-reply@>"), ("CHIKAYA_MAIL_FROM", "no reply@chikaya.ma"),
                             ("CHIKAYA_MAIL_FROM", "Chikaya <a@b.ma>\r\nBcc: x@y.z"), ("CHIKAYA_TRACKING_URL", "https:///suivi/"),
                             ("CHIKAYA_TRACKING_URL", "https://chikaya.ma/suivi/\n"), ("CHIKAYA_TRACKING_URL", "ftp://chikaya.ma/"),
                             ("CHIKAYA_ATTACHMENTS_URL", "https://chikaya.ma/a b/")] {
            #expect(throws: ConfigurationError.self, "\(key)=\(value)") {
                try Configuration.load(path: empty.path, environment: [key: value])
            }
        }
        let good = try Configuration.load(path: empty.path, environment: [
            "CHIKAYA_MAIL_FROM": "Chikaya Casablanca <no-reply@chikaya.casablanca.ma>",
            "CHIKAYA_TRACKING_URL": "https://chikaya.casablanca.ma/suivi/",
        ])
        #expect(good.mailFrom == "Chikaya Casablanca <no-reply@chikaya.casablanca.ma>")
    }
}
