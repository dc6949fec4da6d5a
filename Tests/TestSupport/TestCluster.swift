import Foundation

/// A PostgreSQL server of a test's own, for tests that restart or stop the server and must not
/// disturb the shared cluster other tests run on in parallel. Uses the server programs that
/// `scripts/test` found (`CHIKAYA_TEST_PG_BINDIR`), as the `postgres` user when run as root.
public final class TestCluster: Sendable {
    public let directory: String
    public let port: Int
    public let url: String
    let bindir: String
    let runAs: [String]

    public static var available: Bool {
        ProcessInfo.processInfo.environment["CHIKAYA_TEST_PG_BINDIR"].map { !$0.isEmpty } ?? false
    }

    public init() throws {
        let environment = ProcessInfo.processInfo.environment
        bindir = environment["CHIKAYA_TEST_PG_BINDIR"] ?? "/usr/lib/postgresql/15/bin"
        runAs = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []
        // mkdtemp: a fresh directory of ours (mode 700), never one someone prepared at a guessed path.
        var template = Array((NSTemporaryDirectory() + "chikaya-cluster-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CommandFailed(description: "mkdtemp failed: errno \(errno)") }
        directory = String(cString: made)
        // A password for the superuser, and SCRAM on every connection: no trust on TCP.
        let password = (0..<24).map { _ in String(UInt8.random(in: 0...15), radix: 16) }.joined()
        let passwordFile = directory + "/superuser.password"
        guard FileManager.default.createFile(atPath: passwordFile, contents: Data((password + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw CommandFailed(description: "cannot write \(passwordFile)")
        }
        if getuid() == 0 {
            _ = try Self.shell(["/bin/chown", "-R", "postgres", directory])
        }
        port = try Self.freePort()
        url = "postgresql://postgres:\(password)@127.0.0.1:\(port)/postgres"
        _ = try Self.shell(runAs + ["\(bindir)/initdb", "-D", "\(directory)/data", "-A", "scram-sha-256", "--pwfile", passwordFile,
                                    "-U", "postgres", "--no-sync"])
        try start()
    }

    public func start() throws {
        _ = try Self.shell(runAs + ["\(bindir)/pg_ctl", "-D", "\(directory)/data", "-w", "-l", "\(directory)/log", "-o",
                                    "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    }

    /// Stops the server (fast mode); `start()` brings it back on the same port with the same data.
    public func stop() throws {
        _ = try Self.shell(runAs + ["\(bindir)/pg_ctl", "-D", "\(directory)/data", "-w", "-m", "fast", "stop"])
    }

    public func restart() throws {
        _ = try Self.shell(runAs + ["\(bindir)/pg_ctl", "-D", "\(directory)/data", "-w", "-m", "fast", "-l", "\(directory)/log", "-o",
                                    "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "restart"])
    }

    /// Stops the server and removes its files.
    public func destroy() {
        _ = try? Self.shell(runAs + ["\(bindir)/pg_ctl", "-D", "\(directory)/data", "-w", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    public struct CommandFailed: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Runs a command and returns its output, with posix_spawn and waitpid rather than
    /// Foundation's Process: `pg_ctl start` leaves a server behind that inherits descriptors, and
    /// Process's exit monitoring was seen to miss the exit of such a child. The output goes
    /// through a file so no pipe waits for an end-of-file that the server would hold off.
    @discardableResult
    static func shell(_ command: [String]) throws -> String {
        let outputPath = NSTemporaryDirectory() + "chikaya-shell-" + UUID().uuidString
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw CommandFailed(description: "cannot start \(command[0]): errno \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw CommandFailed(description: "\(command.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CommandFailed(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CommandFailed(description: "could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
