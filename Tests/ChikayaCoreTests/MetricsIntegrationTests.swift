import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// Prometheus text as prometheus_client's own parser reads it (scripts/peers/prometheus_parse.py,
/// in the peers' virtual environment): a file, or an http:// URL fetched with GET.
struct ParsedExposition {
    struct Sample: Decodable {
        let family: String
        let type: String
        let help: String
        let name: String
        let labels: [String: String]
        let value: Double
    }

    struct Response: Decodable {
        let status: Int?
        let contentType: String?
        /// Only with `fetch`.
        let body: String?
    }

    /// The parser refused the text, or the URL could not be fetched.
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    let response: Response
    let samples: [Sample]

    static var available: Bool { ProcessInfo.processInfo.environment["CHIKAYA_TEST_PYTHON"] != nil }

    /// Fetches a URL without parsing (`/healthz`, a 404).
    static func fetch(_ url: String) throws -> Response {
        try run(["--raw", url]).response
    }

    static func read(_ source: String) throws -> ParsedExposition {
        try run([source])
    }

    private static func run(_ arguments: [String]) throws -> ParsedExposition {
        let python = try #require(ProcessInfo.processInfo.environment["CHIKAYA_TEST_PYTHON"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [ChikayaBinary.repositoryRoot().appendingPathComponent("scripts/peers/prometheus_parse.py").path] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Refused(description: errors) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let lines = data.split(separator: UInt8(ascii: "\n"))
        let response = try decoder.decode(Response.self, from: try #require(lines.first))
        return ParsedExposition(response: response, samples: try lines.dropFirst().map { try decoder.decode(Sample.self, from: $0) })
    }

    /// The value of the sample with this name and exactly these labels.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The sum over every label set of a sample name.
    func sum(_ name: String) -> Double {
        samples.filter { $0.name == name }.reduce(0) { $0 + $1.value }
    }

    /// The type prometheus_client gave the family of this sample name.
    func type(of name: String) -> String? {
        samples.first { $0.name == name }?.type
    }
}

/// A TCP port nobody listens on right now, for a service under test.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    try #require(bound)
    return Int(UInt16(bigEndian: address.sin_port))
}

@Suite("/metrics of running services, read by prometheus_client",
       .enabled(if: TestDatabase.available && ParsedExposition.available))
struct ServiceMetricsIntegrationTests {
    @Test("a running worker's /metrics counts what it routed, per department, and its dead letters")
    func workerScrape() throws {
        let fixture = try RoutingFixture("metricsworker", extraEnvironment: ["CHIKAYA_TEST_POISON_MARKER": "POISON",
                                                                             "CHIKAYA_MAX_ATTEMPTS": "1"])
        defer { fixture.database.drop() }
        try fixture.submit(count: 30) { $0 % 15 == 7 ? "POISON" : nil }
        let port = try freeLoopbackPort()
        let base = "http://127.0.0.1:\(port)"
        let worker = try fixture.start(["worker", "--metrics-listen", "127.0.0.1:\(port)", "--batch", "10"])
        defer { if worker.isRunning { worker.signal(SIGKILL) } }
        let db = try fixture.database.connect()
        #expect(try fixture.eventually(timeout: 60) {
            try fixture.count("SELECT count(*) FROM routing_decisions", on: db) == 28
                && fixture.count("SELECT count(*) FROM routing_queue WHERE state = 'dead'", on: db) == 2
        })
        // The figures move just after the transaction commits: scrape until they show it.
        var latest: ParsedExposition?
        _ = fixture.eventually(timeout: 10) {
            latest = try? ParsedExposition.read(base + "/metrics")
            return latest?.sum("chikaya_routed_complaints_total") == 28 && latest?.value("chikaya_routing_dead_letters_total") == 2
        }
        let scrape = try #require(latest)
        #expect(scrape.response.status == 200)
        #expect(scrape.response.contentType == "text/plain; version=0.0.4; charset=utf-8")
        let perDepartment: [(String, Int)] = try db.query("SELECT department, count(*)::int FROM routing_decisions GROUP BY 1")
            .rows.map { (try $0.decode(0), try $0.decode(1)) }
        for (department, count) in perDepartment {
            #expect(scrape.value("chikaya_routed_complaints_total", ["department": department]) == Double(count), "\(department)")
        }
        #expect(scrape.sum("chikaya_routed_complaints_total") == 28)
        #expect(scrape.type(of: "chikaya_routed_complaints_total") == "counter")
        #expect(scrape.value("chikaya_routing_dead_letters_total") == 2)
        #expect(scrape.value("chikaya_routing_failures_total") == 2)
        #expect(scrape.value("chikaya_routing_claimed_complaints_total") == 30)
        #expect(scrape.value("chikaya_routing_decision_confidence_count") == 28)
        #expect(scrape.value("chikaya_routing_decision_confidence_bucket", ["le": "+Inf"]) == 28)
        #expect(scrape.type(of: "chikaya_routing_decision_confidence_count") == "histogram")
        #expect((scrape.value("chikaya_routing_batch_duration_seconds_count") ?? 0) >= 3)
        #expect((scrape.value("chikaya_routing_claim_duration_seconds_count") ?? 0) >= 3)
        #expect((scrape.value("chikaya_routing_claim_duration_seconds_sum") ?? -1) > 0)
        #expect(scrape.value("chikaya_build_info", ["component": "worker", "version": "0.1.0"]) == 1)
        #expect((scrape.value("chikaya_process_start_time_seconds") ?? 0) > 1_700_000_000)

        let health = try ParsedExposition.fetch(base + "/healthz")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")
        #expect(try ParsedExposition.fetch(base + "/nothing").status == 404)

        worker.signal(SIGTERM)
        let outcome = worker.wait(timeout: 30)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(1_000))")
        #expect(outcome.stderr.contains("event=metrics_listening address=127.0.0.1:\(port)"))
    }

    @Test("a running notifier's /metrics counts sent emails and times the SMTP phases")
    func notifierScrape() throws {
        let receiver = try MaildirReceiver()
        try receiver.start()
        let fixture = try RoutingFixture("metricsnotifier", extraEnvironment: ["CHIKAYA_SMTP_URL": receiver.url])
        defer { fixture.database.drop() }
        try fixture.submit(count: 12)
        try fixture.expectSuccess(["worker", "--drain"])
        let db = try fixture.database.connect()
        let citizens = try fixture.count("SELECT count(*) FROM notifications WHERE recipient_kind = 'citizen'", on: db)
        #expect(citizens > 0)
        let port = try freeLoopbackPort()
        let notifier = try fixture.start(["notifier"], environment: ["CHIKAYA_NOTIFIER_METRICS_LISTEN": "127.0.0.1:\(port)"])
        defer { if notifier.isRunning { notifier.signal(SIGKILL) } }
        // The notifier may not listen yet on the first tries.
        var latest: ParsedExposition?
        #expect(fixture.eventually(timeout: 60) {
            latest = try? ParsedExposition.read("http://127.0.0.1:\(port)/metrics")
            return latest?.value("chikaya_emails_total", ["outcome": "sent", "reason": "ok", "recipient": "citizen"]) == Double(citizens)
        })
        let scrape = try #require(latest)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE status = 'sent' AND recipient_kind = 'citizen'", on: db) == citizens)
        for phase in ["envelope", "data"] {
            #expect(scrape.value("chikaya_smtp_phase_duration_seconds_count", ["phase": phase]) == Double(citizens), "\(phase)")
        }
        for phase in ["connect", "greeting", "ehlo"] {
            #expect((scrape.value("chikaya_smtp_phase_duration_seconds_count", ["phase": phase]) ?? 0) >= 1, "\(phase)")
        }
        // No office has an address in this database: every email was a citizen's.
        #expect(scrape.sum("chikaya_emails_total") == Double(citizens))
        #expect(scrape.samples.filter { $0.name == "chikaya_emails_total" && $0.labels["outcome"] == "failed" }.isEmpty)
        notifier.signal(SIGTERM)
        #expect(notifier.wait(timeout: 30).status == 0)
    }

    @Test("a port already taken stops the worker at once with exit 69")
    func portTaken() throws {
        let fixture = try RoutingFixture("metricsport")
        defer { fixture.database.drop() }
        let port = try freeLoopbackPort()
        let first = try fixture.start(["worker", "--metrics-listen", "127.0.0.1:\(port)"])
        defer { first.signal(SIGKILL); _ = first.wait(timeout: 10) }
        #expect(fixture.eventually(timeout: 30) { (try? ParsedExposition.fetch("http://127.0.0.1:\(port)/healthz"))?.status == 200 })
        let second = try fixture.chikaya.run(["worker", "--metrics-listen", "127.0.0.1:\(port)"], environment: fixture.environment,
                                             timeout: 30)
        #expect(second.status == 69)
        #expect(second.stderr.contains("cannot serve metrics"))
        let bad = try fixture.chikaya.run(["worker", "--metrics-listen", "nowhere"], environment: fixture.environment, timeout: 30)
        #expect(bad.status == 64)
    }
}

@Suite("chikaya metrics, read by prometheus_client", .enabled(if: TestDatabase.available && ParsedExposition.available))
struct DatabaseMetricsIntegrationTests {
    @Test("the database-wide figures match the database, on stdout and in an atomic textfile")
    func figures() throws {
        let fixture = try RoutingFixture("dbmetrics")
        defer { fixture.database.drop() }
        try fixture.expectSuccess(["departments", "sync", "config/departments.conf"])
        try fixture.submit(count: 20)
        try fixture.expectSuccess(["worker", "--drain"])
        try fixture.submit(count: 4)
        let db = try fixture.database.connect()
        try db.query("""
            UPDATE routing_queue SET state = 'dead', enqueued_at = now() - interval '1 hour'
            WHERE complaint_id = (SELECT min(complaint_id) FROM routing_queue)
            """)
        // Two complaints past their department's deadline.
        try db.query("""
            UPDATE complaint_events SET at = now() - interval '400 days'
            WHERE complaint_id IN (SELECT id FROM complaints WHERE status = 'assigned' ORDER BY id LIMIT 2)
            """)

        let outcome = try fixture.expectSuccess(["metrics"])
        let file = NSTemporaryDirectory() + "chikaya-metrics-\(UUID().uuidString).prom"
        try outcome.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let parsed = try ParsedExposition.read(file)

        #expect(parsed.value("chikaya_routing_queue_entries", ["state": "pending"]) == 3)
        #expect(parsed.value("chikaya_routing_queue_entries", ["state": "leased"]) == 0)
        #expect(parsed.value("chikaya_routing_queue_entries", ["state": "dead"]) == 1)
        #expect((parsed.value("chikaya_routing_queue_oldest_age_seconds", ["state": "dead"]) ?? 0) >= 3_600)
        #expect(parsed.type(of: "chikaya_routing_queue_entries") == "gauge")

        let perStatus: [(String, String, Int)] = try db.query("""
            SELECT status, coalesce(department, 'none'), count(*)::int FROM complaints GROUP BY 1, 2
            """).rows.map { (try $0.decode(0), try $0.decode(1), try $0.decode(2)) }
        for (status, department, count) in perStatus {
            #expect(parsed.value("chikaya_complaints", ["status": status, "department": department]) == Double(count))
        }
        #expect(parsed.sum("chikaya_complaints") == 24)
        #expect(parsed.value("chikaya_complaints", ["status": "received", "department": "none"]) == 4)

        let sentOrPending = try fixture.count("SELECT count(*) FROM notifications WHERE status = 'pending' AND recipient_kind = 'citizen'", on: db)
        #expect(parsed.value("chikaya_outbox_notifications", ["status": "pending", "recipient": "citizen"]) == Double(sentOrPending))
        #expect(parsed.value("chikaya_outbox_notifications", ["status": "failed", "recipient": "department"]) == 0)
        #expect(parsed.sum("chikaya_complaints_late") == 2)
        #expect(parsed.value("chikaya_department_offices_without_address") == 0)
        #expect(parsed.value("chikaya_schema_version") == Double(Migrations.all.map(\.version).max() ?? 0))
        #expect(parsed.samples.contains { $0.name == "chikaya_rules_published_timestamp_seconds" })

        // --textfile: the same figures in DIR/chikaya.prom, and no temporary file left beside it.
        let directory = NSTemporaryDirectory() + "chikaya-textfile-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try fixture.expectSuccess(["metrics", "--textfile", directory])
        try fixture.expectSuccess(["metrics", "--textfile", directory])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["chikaya.prom"])
        let exported = try ParsedExposition.read(directory + "/chikaya.prom")
        #expect(exported.value("chikaya_routing_queue_entries", ["state": "dead"]) == 1)
        #expect(exported.sum("chikaya_complaints") == 24)

        let missing = try fixture.chikaya.run(["metrics", "--textfile", directory + "/absent"], environment: fixture.environment)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot write"))
    }
}

@Suite("metrics_listen configuration (unit)")
struct MetricsListenConfigurationUnitTests {
    @Test func addressesParseAndBadOnesAreReportedByName() throws {
        let empty = NSTemporaryDirectory() + "chikaya-metrics-listen-\(UUID().uuidString).conf"
        try Data().write(to: URL(fileURLWithPath: empty))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let configuration = try Configuration.load(path: empty, environment: [
            "CHIKAYA_WORKER_METRICS_LISTEN": "127.0.0.1:9464", "CHIKAYA_NOTIFIER_METRICS_LISTEN": "",
        ])
        #expect(configuration.workerMetricsListen == ListenAddress("127.0.0.1:9464"))
        #expect(configuration.notifierMetricsListen == nil)
        #expect(throws: ConfigurationError.self) {
            _ = try Configuration.load(path: empty, environment: ["CHIKAYA_NOTIFIER_METRICS_LISTEN": "localhost"])
        }
        do {
            _ = try Configuration.load(path: empty, environment: ["CHIKAYA_WORKER_METRICS_LISTEN": "9464"])
            Issue.record("a port alone is not an address")
        } catch {
            #expect(error.description.contains("CHIKAYA_WORKER_METRICS_LISTEN"))
            #expect(error.description.contains("HOST:PORT"))
        }
    }
}
