import Foundation

/// The scripted relay of scripts/peers/faulty_relay.py (slow replies, 451s, 421 mid-session, a
/// close right after the final dot, idle connections dropped) on a port of the test's choosing.
public final class FaultyRelay {
    public let port: Int
    public let maildir: String
    public let options: [String]
    private var child: SpawnedProcess?

    public init(_ options: [String] = []) throws {
        port = try TestCluster.freePort()
        maildir = NSTemporaryDirectory() + "chikaya-faulty-" + UUID().uuidString
        self.options = options
    }

    /// `timeout` sets every SMTP phase's limit, so the fault tests stay short.
    public func url(timeout: Double = 10) -> String { "smtp://127.0.0.1:\(port)?tls=none&timeout=\(timeout)" }

    public func start() throws {
        let python = ProcessInfo.processInfo.environment["CHIKAYA_TEST_PYTHON"] ?? "python3"
        let script = ChikayaBinary.repositoryRoot().appendingPathComponent("scripts/peers/faulty_relay.py").path
        child = try SpawnedProcess([python, script, "--port", String(port), "--maildir", maildir] + options,
                                   outputPath: maildir + ".log")
        if child?.becomesReady(timeout: 60, { MaildirReceiver.accepts(port: port) }) == true { return }
        throw TestCluster.CommandFailed(description: "the faulty relay did not start on port \(port)")
    }

    public func stop() {
        child?.stop()
        child = nil
    }

    /// Messages the relay accepted (250 after the final dot), raw.
    public func acceptedMessages() -> [String] {
        let folder = maildir + "/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }

    /// The Message-ID of every message body the relay read, accepted or not, in order.
    public func attemptedMessageIDs() -> [String] {
        let text = (try? String(contentsOfFile: maildir + "/attempts.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: maildir)
        try? FileManager.default.removeItem(atPath: maildir + ".log")
    }
}
