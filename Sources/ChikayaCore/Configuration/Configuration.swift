import Foundation
import Mail
import Metrics
import Routing

/// Every setting of the product, loaded once at start-up from `config/chikaya.conf` (or the file
/// named by `CHIKAYA_CONFIG`) and overridden by environment variables, then validated.
///
/// Code never reads the environment itself: it receives this value.
public struct Configuration: Sendable {
    public var databaseURL: String? = nil
    public var logLevel: LogLevel = .info
    public var rulesFile: String = "config/routing-rules.conf"

    public var workerConcurrency: Int = 2
    public var workerBatch: Int = 1_000
    public var leaseSeconds: Double = 60
    public var maxAttempts: Int = 5
    public var shutdownGraceSeconds: Double = 10
    public var pollSeconds: Double = 1

    /// How long a loop that claimed nothing waits before it looks again: the whole poll, or when
    /// draining 50 ms (what is still due is held by another loop for milliseconds; a drain's end
    /// waited a whole poll otherwise, 1.5 s instead of 0.5 for 2,000 notifications).
    func idleWait(draining: Bool) -> Double {
        draining ? min(pollSeconds, 0.05) : pollSeconds
    }
    /// Where `worker` serves /metrics and /healthz; nil: not served.
    public var workerMetricsListen: ListenAddress? = nil

    public var smtpURL: String? = nil
    public var smtpCAFile: String? = nil
    public var mailFrom: String = "Chikaya Casablanca <no-reply@chikaya.invalid>"
    public var trackingURL: String = "https://chikaya.invalid/suivi/"
    public var templatesDirectory: String = "config/templates"
    /// Base of the attachment links in department emails; the attachment's storage key is appended.
    public var attachmentsURL: String = "https://chikaya.invalid/pieces/"
    /// The hand-editable contacts and deadlines that `chikaya departments sync` applies.
    public var departmentsFile: String = "config/departments.conf"
    public var defaultLanguage: String = "fr"
    /// Two loops, as the worker has: while one waits on PostgreSQL or the relay, the other
    /// renders and sends, so a 2-core machine is used on both cores.
    public var notifierConcurrency: Int = 2
    /// 100, not 50: each claim and each record costs a round trip and a statement's planning
    /// (the claim 1.1 ms of planning and 5 ms of work for 50 rows); `scripts/bench-mail 2000 2000`,
    /// alternated, 2026-12-03 14:40: 3,622-3,812 notifications/s at 50, 4,657-4,942 at 100. What a
    /// crash between the relay's 250s and the group's record can repeat is one batch.
    public var notifierBatch: Int = 100
    public var notifierMaxAgeSeconds: Double = 2 * 24 * 3600
    public var notifierRatePerSecond: Double = 0
    public var notifierRetryBaseSeconds: Double = 60
    public var notifierLeaseSeconds: Double = 120
    public var notifierMaxAttempts: Int = 20
    /// Where `notifier` serves /metrics and /healthz; nil: not served.
    public var notifierMetricsListen: ListenAddress? = nil

    /// Inbound mail (`chikaya mail-in`): the secret that signs our return addresses, the one it
    /// replaced (still accepted during a rotation), the domain of those addresses (default: the
    /// domain of `mail_from`) and the MTA's recipient delimiter.
    public var inboundSecretFile: String? = nil
    public var inboundPreviousSecretFile: String? = nil
    public var inboundDomain: String? = nil
    public var inboundDelimiter: String = "+"
    /// The local parts of the signed addresses, before the delimiter (`bounces+…`, `reply+…`,
    /// `unsubscribe+…` by default), for an MTA whose mailboxes are named otherwise.
    public var inboundLocalParts: [InboundAddressing.Kind: String] = [.bounce: "bounces", .reply: "reply", .unsubscribe: "unsubscribe"]
    /// Who hears that an office address bounces when the triage cell has no working address of
    /// its own (`admin_email`); nil: only the triage cell.
    public var adminEmail: String? = nil

    /// The signer of return, reply and unsubscribe addresses; nil without `inbound_secret_file`.
    public func inboundAddressing() throws(MailConfigurationError) -> InboundAddressing? {
        guard let file = inboundSecretFile else { return nil }
        let secret = try InboundSecret.load(path: file, previousPath: inboundPreviousSecretFile)
        return InboundAddressing(secret: secret, domain: effectiveInboundDomain, delimiter: inboundDelimiter,
                                 localParts: inboundLocalParts)
    }

    /// The domain of the signed addresses: `inbound_domain`, else the domain of `mail_from`.
    public var effectiveInboundDomain: String {
        inboundDomain ?? MailboxAddress.parse(mailFrom).messageIDDomain
    }
    /// Possible duplicates: how far back an open complaint is compared (0 turns the lookup off),
    /// from which similarity two are linked, and how many of the newest open complaints of one
    /// arrondissement and department are compared with each batch.
    public var duplicateWindowDays: Double = 7
    public var duplicateThreshold: Double = TextSimilarity.defaultThreshold
    public var duplicateCandidates: Int = 10


    public init() {}

    /// One setting: its key in the file, the environment variable that overrides it, and how to
    /// apply a text value (throwing the reason when the value is invalid).
    struct Key: Sendable {
        let name: String
        let environment: String
        let help: String
        let apply: @Sendable (inout Configuration, String) throws(ReasonError) -> Void
    }

    struct ReasonError: Error { let reason: String }

    /// A local part the MTA can route: lower-case letters, digits and dots, no delimiter in it.
    static func localPart(_ value: String) throws(ReasonError) -> String {
        let lowered = value.lowercased()
        guard (1...32).contains(lowered.count), lowered.first != ".",
              lowered.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." }) else {
            throw ReasonError(reason: "'\(value)' is not a local part of 1 to 32 letters, digits or dots")
        }
        return lowered
    }

    static let keys: [Key] = [
        Key(name: "database_url", environment: "DATABASE_URL", help: "libpq URI or conninfo; empty uses PG* variables") { c, v throws(ReasonError) in
            c.databaseURL = v.isEmpty ? nil : v
        },
        Key(name: "database_url_file", environment: "DATABASE_URL_FILE", help: "a file holding database_url, readable by its owner only (systemd credentials, container secrets)") { c, v throws(ReasonError) in
            c.databaseURL = try secret(v)
        },
        Key(name: "log_level", environment: "CHIKAYA_LOG_LEVEL", help: "debug, info, warn or error") { c, v throws(ReasonError) in
            guard let level = LogLevel(rawValue: v.lowercased()) else {
                throw ReasonError(reason: "'\(v)' is not one of debug, info, warn, error")
            }
            c.logLevel = level
        },
        Key(name: "rules_file", environment: "CHIKAYA_RULES_FILE", help: "default rules file for publish") { c, v throws(ReasonError) in
            c.rulesFile = try nonEmpty(v)
        },
        Key(name: "worker.concurrency", environment: "CHIKAYA_WORKER_CONCURRENCY", help: "routing loops per process") { c, v throws(ReasonError) in
            c.workerConcurrency = try integer(v, 1...64)
        },
        Key(name: "worker.batch", environment: "CHIKAYA_WORKER_BATCH", help: "complaints claimed at once") { c, v throws(ReasonError) in
            c.workerBatch = try integer(v, 1...10_000)
        },
        Key(name: "worker.lease_seconds", environment: "CHIKAYA_LEASE_SECONDS", help: "after this a claimed, unfinished complaint is claimable again") { c, v throws(ReasonError) in
            c.leaseSeconds = try seconds(v, 0.1...86_400)
        },
        Key(name: "worker.max_attempts", environment: "CHIKAYA_MAX_ATTEMPTS", help: "tries before a complaint goes to the dead letters") { c, v throws(ReasonError) in
            c.maxAttempts = try integer(v, 1...100)
        },
        Key(name: "worker.shutdown_grace_seconds", environment: "CHIKAYA_SHUTDOWN_GRACE_SECONDS", help: "time given to in-flight batches on SIGTERM") { c, v throws(ReasonError) in
            c.shutdownGraceSeconds = try seconds(v, 0...3_600)
        },
        Key(name: "worker.poll_seconds", environment: "CHIKAYA_POLL_SECONDS", help: "fallback poll when no notification arrives") { c, v throws(ReasonError) in
            c.pollSeconds = try seconds(v, 0.05...60)
        },
        Key(name: "worker.metrics_listen", environment: "CHIKAYA_WORKER_METRICS_LISTEN", help: "HOST:PORT of /metrics and /healthz, e.g. 127.0.0.1:9464; empty: none") { c, v throws(ReasonError) in
            c.workerMetricsListen = try listenAddress(v)
        },
        Key(name: "smtp_url", environment: "CHIKAYA_SMTP_URL", help: "smtp://user:pass@host:587?tls=starttls, smtps://host:465, smtp://127.0.0.1:2525?tls=none") { c, v throws(ReasonError) in
            c.smtpURL = v.isEmpty ? nil : v
        },
        Key(name: "smtp_url_file", environment: "CHIKAYA_SMTP_URL_FILE", help: "a file holding smtp_url, readable by its owner only") { c, v throws(ReasonError) in
            c.smtpURL = try secret(v)
        },
        Key(name: "smtp_ca_file", environment: "CHIKAYA_SMTP_CA_FILE", help: "CA bundle for a private relay") { c, v throws(ReasonError) in
            c.smtpCAFile = v.isEmpty ? nil : v
        },
        Key(name: "mail_from", environment: "CHIKAYA_MAIL_FROM", help: "sender of the emails") { c, v throws(ReasonError) in
            c.mailFrom = try sender(v)
        },
        Key(name: "tracking_url", environment: "CHIKAYA_TRACKING_URL", help: "base of the tracking link in emails") { c, v throws(ReasonError) in
            c.trackingURL = try webBase(v)
        },
        Key(name: "attachments_url", environment: "CHIKAYA_ATTACHMENTS_URL", help: "base of attachment links in department emails") { c, v throws(ReasonError) in
            c.attachmentsURL = try webBase(v)
        },
        Key(name: "departments_file", environment: "CHIKAYA_DEPARTMENTS_FILE", help: "contacts and deadlines for departments sync") { c, v throws(ReasonError) in
            c.departmentsFile = try nonEmpty(v)
        },
        Key(name: "templates_dir", environment: "CHIKAYA_TEMPLATES_DIR", help: "folder of the mail templates") { c, v throws(ReasonError) in
            c.templatesDirectory = try nonEmpty(v)
        },
        Key(name: "default_language", environment: "CHIKAYA_DEFAULT_LANGUAGE", help: "ar or fr, when a complaint declares none") { c, v throws(ReasonError) in
            guard v == "ar" || v == "fr" else { throw ReasonError(reason: "'\(v)' is not ar or fr") }
            c.defaultLanguage = v
        },
        Key(name: "notifier.concurrency", environment: "CHIKAYA_NOTIFIER_CONCURRENCY", help: "sending loops per process") { c, v throws(ReasonError) in
            c.notifierConcurrency = try integer(v, 1...32)
        },
        Key(name: "notifier.batch", environment: "CHIKAYA_NOTIFIER_BATCH", help: "notifications claimed at once") { c, v throws(ReasonError) in
            c.notifierBatch = try integer(v, 1...1_000)
        },
        Key(name: "notifier.max_age_seconds", environment: "CHIKAYA_NOTIFIER_MAX_AGE_SECONDS", help: "retry a notification until it is this old") { c, v throws(ReasonError) in
            c.notifierMaxAgeSeconds = try seconds(v, 1...(30 * 86_400))
        },
        Key(name: "notifier.rate_per_second", environment: "CHIKAYA_NOTIFIER_RATE", help: "messages per second per relay, 0 for no limit") { c, v throws(ReasonError) in
            c.notifierRatePerSecond = try seconds(v, 0...100_000)
        },
        Key(name: "notifier.retry_base_seconds", environment: "CHIKAYA_NOTIFIER_RETRY_BASE_SECONDS", help: "first retry after about this long; doubles up to an hour") { c, v throws(ReasonError) in
            c.notifierRetryBaseSeconds = try seconds(v, 0.1...3_600)
        },
        Key(name: "notifier.lease_seconds", environment: "CHIKAYA_NOTIFIER_LEASE_SECONDS", help: "a claimed notification whose sender vanished is retried after this") { c, v throws(ReasonError) in
            c.notifierLeaseSeconds = try seconds(v, 1...86_400)
        },
        Key(name: "notifier.max_attempts", environment: "CHIKAYA_NOTIFIER_MAX_ATTEMPTS", help: "claims without a recorded outcome before a notification fails") { c, v throws(ReasonError) in
            c.notifierMaxAttempts = try integer(v, 1...1_000)
        },
        Key(name: "notifier.metrics_listen", environment: "CHIKAYA_NOTIFIER_METRICS_LISTEN", help: "HOST:PORT of /metrics and /healthz, e.g. 127.0.0.1:9465; empty: none") { c, v throws(ReasonError) in
            c.notifierMetricsListen = try listenAddress(v)
        },
        Key(name: "inbound_secret_file", environment: "CHIKAYA_INBOUND_SECRET_FILE", help: "file holding the secret that signs return and reply addresses") { c, v throws(ReasonError) in
            c.inboundSecretFile = v.isEmpty ? nil : v
        },
        Key(name: "inbound_previous_secret_file", environment: "CHIKAYA_INBOUND_PREVIOUS_SECRET_FILE", help: "the secret before a rotation, still accepted") { c, v throws(ReasonError) in
            c.inboundPreviousSecretFile = v.isEmpty ? nil : v
        },
        Key(name: "inbound_domain", environment: "CHIKAYA_INBOUND_DOMAIN", help: "domain of the signed addresses (default: mail_from's)") { c, v throws(ReasonError) in
            guard v.isEmpty || (v.contains(".") && !v.contains("@") && !v.contains(" ")) else {
                throw ReasonError(reason: "'\(v)' is not a domain name")
            }
            c.inboundDomain = v.isEmpty ? nil : v.lowercased()
        },
        Key(name: "inbound_delimiter", environment: "CHIKAYA_INBOUND_DELIMITER", help: "the MTA's recipient_delimiter, + by default") { c, v throws(ReasonError) in
            guard v.count == 1, let ch = v.first, "+-=_".contains(ch) else {
                throw ReasonError(reason: "'\(v)' is not one of + - = _")
            }
            c.inboundDelimiter = v
        },
        Key(name: "inbound_bounce_local_part", environment: "CHIKAYA_INBOUND_BOUNCE_LOCAL_PART", help: "local part of the signed return path, bounces by default") { c, v throws(ReasonError) in
            c.inboundLocalParts[.bounce] = try localPart(v)
        },
        Key(name: "inbound_reply_local_part", environment: "CHIKAYA_INBOUND_REPLY_LOCAL_PART", help: "local part of the signed Reply-To, reply by default") { c, v throws(ReasonError) in
            c.inboundLocalParts[.reply] = try localPart(v)
        },
        Key(name: "inbound_unsubscribe_local_part", environment: "CHIKAYA_INBOUND_UNSUBSCRIBE_LOCAL_PART", help: "local part of the signed unsubscribe address, unsubscribe by default") { c, v throws(ReasonError) in
            c.inboundLocalParts[.unsubscribe] = try localPart(v)
        },
        Key(name: "admin_email", environment: "CHIKAYA_ADMIN_EMAIL", help: "told when an office address bounces and the triage cell has no address") { c, v throws(ReasonError) in
            guard v.isEmpty || (v.split(separator: "@").count == 2 && !v.contains(" ") && !v.contains("<")) else {
                throw ReasonError(reason: "'\(v)' is not an email address")
            }
            c.adminEmail = v.isEmpty ? nil : v.lowercased()
        },
        Key(name: "duplicates.window_days", environment: "CHIKAYA_DUPLICATES_WINDOW_DAYS", help: "an open complaint this recent can be a new one's duplicate; 0 turns the lookup off") { c, v throws(ReasonError) in
            guard let n = Double(v), (0...365).contains(n) else {
                throw ReasonError(reason: "'\(v)' is not a number of days from 0 to 365")
            }
            c.duplicateWindowDays = n
        },
        Key(name: "duplicates.threshold", environment: "CHIKAYA_DUPLICATES_THRESHOLD", help: "text similarity (0..1) from which two complaints are linked") { c, v throws(ReasonError) in
            guard let n = Double(v), n > 0, n <= 1 else {
                throw ReasonError(reason: "'\(v)' is not a similarity above 0 and at most 1")
            }
            c.duplicateThreshold = n
        },
        Key(name: "duplicates.candidates", environment: "CHIKAYA_DUPLICATES_CANDIDATES", help: "newest open complaints per arrondissement and department compared with a batch") { c, v throws(ReasonError) in
            c.duplicateCandidates = try integer(v, 1...10_000)
        },
    ]

    private static func secret(_ path: String) throws(ReasonError) -> String {
        do { return try SecretFile.read(path) } catch { throw ReasonError(reason: error.reason) }
    }

    /// `Name <address>` or a bare address that the mail code will accept: checked once here, so a
    /// bad sender stops the notifier at start (exit 78) instead of failing every notification.
    private static func sender(_ v: String) throws(ReasonError) -> String {
        guard !v.unicodeScalars.contains(where: { $0.value < 32 || (0x7F...0x9F).contains($0.value) }) else {
            throw ReasonError(reason: "holds a control character (a line break would forge headers)")
        }
        let mailbox = MailboxAddress.parse(v)
        do { try EmailAddress.validate(mailbox.address) } catch { throw ReasonError(reason: "'\(v)': \(error)") }
        if let name = mailbox.name, name.contains(where: { $0 == "<" || $0 == ">" || $0 == "\"" }) {
            throw ReasonError(reason: "'\(v)': the display name may not hold < > or \"")
        }
        return v
    }

    /// An http(s) URL with a host and nothing a mail client would cut or misread (spaces,
    /// control characters, quotes, angle brackets).
    private static func webBase(_ v: String) throws(ReasonError) -> String {
        guard v.hasPrefix("https://") || v.hasPrefix("http://") else {
            throw ReasonError(reason: "'\(v)' must start with https:// or http://")
        }
        guard !v.unicodeScalars.contains(where: { $0.value <= 32 || (0x7F...0x9F).contains($0.value) || "\"<>\\`{}|^".unicodeScalars.contains($0) }),
              let url = URL(string: v), let host = url.host, !host.isEmpty else {
            throw ReasonError(reason: "'\(v)' is not a valid http(s) URL with a host")
        }
        return v
    }

    private static func nonEmpty(_ v: String) throws(ReasonError) -> String {
        guard !v.isEmpty else { throw ReasonError(reason: "must not be empty") }
        return v
    }

    private static func listenAddress(_ v: String) throws(ReasonError) -> ListenAddress? {
        guard !v.isEmpty else { return nil }
        guard let address = ListenAddress(v) else {
            throw ReasonError(reason: "'\(v)' is not HOST:PORT (for example 127.0.0.1:9464 or [::1]:9464)")
        }
        return address
    }

    private static func integer(_ v: String, _ range: ClosedRange<Int>) throws(ReasonError) -> Int {
        guard let n = Int(v), range.contains(n) else {
            throw ReasonError(reason: "'\(v)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    private static func seconds(_ v: String, _ range: ClosedRange<Double>) throws(ReasonError) -> Double {
        guard let n = Double(v), range.contains(n) else {
            throw ReasonError(reason: "'\(v)' is not a number of seconds from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }
}

/// Every problem found in the configuration, each naming where the value came from and why it
/// is wrong, reported together.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

extension Configuration {
    /// Loads the file (if `path` is nil: `CHIKAYA_CONFIG`, else `config/chikaya.conf` when it
    /// exists) and then the environment over it.
    public static func load(path: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> Configuration {
        var problems: [String] = []
        let explicit = path ?? environment["CHIKAYA_CONFIG"]
        let file = explicit ?? "config/chikaya.conf"
        var text = ""
        if let data = FileManager.default.contents(atPath: file) {
            do { text = try TextFile.decodeStrictly(data, fileName: file) } catch { problems += error.lines }
        } else if explicit != nil {
            problems.append("\(file): cannot read the configuration file")
        }
        return try parse(text, file: file, environment: environment, problems: problems)
    }

    /// The configuration that the text of a file named `file` gives, with `environment` over
    /// it: what `load` does once the file is read (pure, so it can be fuzzed and tested alone).
    public static func parse(_ text: String, file: String, environment: [String: String]) throws(ConfigurationError) -> Configuration {
        try parse(text, file: file, environment: environment, problems: [])
    }

    private static func parse(_ text: String, file: String, environment: [String: String],
                              problems earlier: [String]) throws(ConfigurationError) -> Configuration {
        var configuration = Configuration()
        var problems = earlier
        // "\r\n" is one Character in Swift: splitting on "\n" alone would read a CRLF file as one line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (number, rawLine) in lines.enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                problems.append("\(file):\(number + 1): expected 'key = value'")
                continue
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            // A comment may follow a value after white space ("batch = 100   # why");
            // a '#' inside a value (no space before it) is kept.
            if let comment = value.range(of: #"\s#"#, options: .regularExpression) {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            guard let key = keys.first(where: { $0.name == name }) else {
                problems.append("\(file):\(number + 1): unknown key '\(name)'")
                continue
            }
            do {
                try key.apply(&configuration, value)
            } catch {
                problems.append("\(file):\(number + 1): \(name): \(error.reason)")
            }
        }
        // One source per secret: which of the two would win is not something to guess at.
        for (plain, fromFile) in [("DATABASE_URL", "DATABASE_URL_FILE"), ("CHIKAYA_SMTP_URL", "CHIKAYA_SMTP_URL_FILE")]
        where !(environment[plain] ?? "").isEmpty && !(environment[fromFile] ?? "").isEmpty {
            problems.append("environment: both \(plain) and \(fromFile) are set; keep one")
        }
        for key in keys {
            guard let value = environment[key.environment] else { continue }
            do {
                try key.apply(&configuration, value)
            } catch {
                problems.append("environment \(key.environment): \(error.reason)")
            }
        }
        if Set(configuration.inboundLocalParts.values).count != configuration.inboundLocalParts.count {
            problems.append("inbound_bounce_local_part, inbound_reply_local_part and inbound_unsubscribe_local_part must differ")
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return configuration
    }

    /// The keys, their environment variables and what they mean, for `--help` and the README.
    public static var keyReference: [(key: String, environment: String, help: String)] {
        keys.map { ($0.name, $0.environment, $0.help) }
    }
}
