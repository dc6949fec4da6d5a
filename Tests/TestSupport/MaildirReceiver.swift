import Foundation

/// A real SMTP receiver (aiosmtpd's Maildir handler, scripts/peers/maildir_receiver.py) on a port
/// of the test's choosing, which the test can stop and start again to play a relay outage.
public final class MaildirReceiver {
    public let port: Int
    public let maildir: String
    private var child: SpawnedProcess?

    public static var available: Bool { ProcessInfo.processInfo.environment["CHIKAYA_TEST_PYTHON"] != nil }

    public init() throws {
        port = try TestCluster.freePort()
        maildir = NSTemporaryDirectory() + "chikaya-maildir-" + UUID().uuidString
    }

    public var url: String { "smtp://127.0.0.1:\(port)?tls=none" }

    /// A receiver already accepting connections.
    public static func started() throws -> MaildirReceiver {
        let receiver = try MaildirReceiver()
        try receiver.start()
        return receiver
    }

    public var smtpURL: String { url }

    public func start() throws {
        let python = ProcessInfo.processInfo.environment["CHIKAYA_TEST_PYTHON"] ?? "python3"
        child = try SpawnedProcess([python,
                                    ChikayaBinary.repositoryRoot().appendingPathComponent("scripts/peers/maildir_receiver.py").path,
                                    "serve", "--maildir", maildir, "--port", String(port)])
        // Ready when it accepts a connection.
        if child?.becomesReady(timeout: 60, { Self.accepts(port: port) }) == true { return }
        throw TestCluster.CommandFailed(description: "the SMTP receiver did not start on port \(port)")
    }

    public func stop() {
        child?.stop()
        child = nil
    }

    /// Each received message decoded by Python's email parser: headers and the plain-text body.
    public func decodedMessages() throws -> [[String: String]] {
        let script = """
        import email, email.policy, json, pathlib, sys
        out = []
        for path in sorted(pathlib.Path(sys.argv[1]).glob('*/*')):
            if path.parent.name not in ('new', 'cur'): continue
            m = email.message_from_binary_file(open(path, 'rb'), policy=email.policy.default)
            d = {h: str(m[h]) for h in ('To', 'Subject', 'Reply-To', 'Message-ID', 'In-Reply-To', 'References') if m[h] is not None}
            d['text'] = m.get_body(('plain',)).get_content()
            d['html'] = m.get_body(('html',)).get_content()
            d['raw'] = path.read_bytes().decode('ascii', 'replace')
            out.append(d)
        print(json.dumps(out))
        """
        let run = Process()
        run.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["CHIKAYA_TEST_PYTHON"] ?? "python3")
        run.arguments = ["-c", script, maildir]
        let pipe = Pipe()
        run.standardOutput = pipe
        try run.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        run.waitUntilExit()
        return try JSONDecoder().decode([[String: String]].self, from: data)
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: maildir)
    }

    /// The messages delivered so far, as raw text.
    public func rawMessages() -> [String] {
        let folder = maildir + "/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { try? String(contentsOfFile: folder + "/" + $0, encoding: .utf8) }
    }

    /// A header's value in a raw message (first occurrence, unfolded).
    public static func header(_ name: String, in message: String) -> String? {
        var value: String?
        for line in message.components(separatedBy: "\n") {
            let clean = line.hasSuffix("\r") ? String(line.dropLast()) : line
            if clean.isEmpty { break }
            if let current = value, clean.first == " " || clean.first == "\t" {
                value = current + clean
            } else if value != nil {
                break
            } else if clean.lowercased().hasPrefix(name.lowercased() + ":") {
                value = String(clean.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
            }
        }
        return value
    }

    public static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
