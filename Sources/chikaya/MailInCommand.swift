import ChikayaCore
import Foundation
import Mail
#if canImport(Glibc)
import Glibc
#endif

/// `chikaya mail-in`: the door for inbound mail, run by the MTA once per message.
enum MailInCommand: Command {
    static let name = "mail-in"
    static let summary = "handle one inbound message from the MTA (bounces, replies, unsubscribe)"
    static let usage = """
    usage: chikaya mail-in [--sender ADDR] [--recipient ADDR] [--explain] [--maildir DIR]

    Reads one RFC 5322 message on standard input, as an MTA hands it to a program (Postfix
    pipe(8), Exim's pipe transport, procmail, a .forward pipe), and acts on it: a bounce marks its
    notification bounced and suppresses the address; an office's reply with a command moves the
    complaint as that office; a citizen's reply becomes a note; an unsubscribe suppresses the
    citizen's address; automatic replies are recorded. Only signed addresses count (see
    docs/inbound-mail.md); anything else is recorded and ignored, and nothing is ever sent back.

    Exit codes for the MTA: 0 handled (or ignored), 75 try again later (database unreachable,
    configuration incomplete: the MTA keeps the message), 65 refused for good (too large, too
    deeply nested, empty), 64 bad command line.

    options:
      --sender ADDR       envelope sender (Postfix: ${sender}); default: Return-Path
      --recipient ADDR    envelope recipient (Postfix: ${original_recipient}); default: Delivered-To
      --explain           print what the message is, one logfmt line per finding; change nothing
      --maildir DIR       handle every message of DIR/new, then move it to DIR/cur (flag S when
                          handled, T when refused); stops at the first temporary failure
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let explain = arguments.flag("--explain")
        let sender = try arguments.option("--sender")
        let recipient = try arguments.option("--recipient")
        let maildir = try arguments.option("--maildir")
        let loaded = Result { () throws(CLIError) -> Runtime in try Runtime.load(&arguments, component: "mail-in") }
        guard case .success(let runtime) = loaded else {
            if case .failure(let error) = loaded {
                // A configuration mistake must not bounce citizens' mail: the MTA keeps it.
                if error.exitCode == 78 { complain(error.message); return 75 }
                throw error
            }
            return 75
        }
        try arguments.finish()
        let processor: InboundProcessor
        do {
            processor = try InboundProcessor(configuration: runtime.configuration, logger: runtime.logger)
        } catch {
            complain("inbound mail is not configured: \(error)")
            return 75
        }
        if !explain && runtime.configuration.inboundSecretFile == nil {
            complain("no inbound secret: set inbound_secret_file (or CHIKAYA_INBOUND_SECRET_FILE); see docs/inbound-mail.md")
            return 75
        }
        let session = Session(runtime: runtime, processor: processor, explain: explain)
        if let maildir {
            return session.maildir(maildir)
        }
        switch readStandardInput(limit: processor.parser.limits.maxBytes) {
        case .success(let raw):
            return session.one(raw, envelope: InboundEnvelope(sender: sender, recipient: recipient))
        case .failure(let error):
            complain("\(error)")
            if case .refused = error { return 65 }
            return 75
        }
    }

    static func complain(_ message: String) {
        var stderr = StandardError()
        print("chikaya: mail-in: \(message)", to: &stderr)
    }

    /// Reads standard input up to `limit` octets; one more is enough to refuse the message.
    static func readStandardInput(limit: Int) -> Result<[UInt8], InboundError> {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(0, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(.temporary("cannot read standard input: \(String(cString: strerror(errno)))"))
            }
            if count == 0 { return .success(data) }
            data += buffer[0..<count]
            if data.count > limit {
                return .failure(.refused("message larger than \(limit) octets"))
            }
        }
    }

    /// One run: a database connection opened on first need and kept for a Maildir's messages.
    final class Session {
        let runtime: Runtime
        let processor: InboundProcessor
        let explain: Bool
        var connection: PostgresConnection?

        init(runtime: Runtime, processor: InboundProcessor, explain: Bool) {
            self.runtime = runtime
            self.processor = processor
            self.explain = explain
        }

        func database() throws(PostgresError) -> PostgresConnection {
            if let connection { return connection }
            let opened = try runtime.database(role: "mail-in").connect()
            connection = opened
            return opened
        }

        /// Handles one message; returns the exit code for it.
        func one(_ raw: [UInt8], envelope: InboundEnvelope) -> Int32 {
            let analysis: InboundAnalysis
            do {
                analysis = try processor.analyze(raw, envelope: envelope)
            } catch {
                complain("\(error)")
                if case .temporary = error { return 75 }
                runtime.logger.warn("inbound_refused", [("reason", error.description)])
                return 65
            }
            if explain {
                do {
                    for line in try processor.explain(analysis, database: database) { print(line) }
                    return 0
                } catch {
                    complain("\(error)")
                    return 75
                }
            }
            do {
                _ = try processor.handle(analysis, on: try database())
                return 0
            } catch {
                // Whatever the database said, the MTA keeps the message and tries again: losing a
                // bounce or an office's answer is worse than handling it late.
                complain("database: \(error)")
                connection = nil
                return 75
            }
        }

        func maildir(_ path: String) -> Int32 {
            let fm = FileManager.default
            let new = (path as NSString).appendingPathComponent("new")
            let cur = (path as NSString).appendingPathComponent("cur")
            guard let names = try? fm.contentsOfDirectory(atPath: new) else {
                complain("cannot read the Maildir folder \(new)")
                return 66
            }
            var handled = 0, refused = 0
            for name in names.sorted() where !name.hasPrefix(".") {
                let file = (new as NSString).appendingPathComponent(name)
                guard let data = fm.contents(atPath: file) else { continue }
                let code = one([UInt8](data), envelope: InboundEnvelope())
                if code == 75 {
                    complain("stopped at \(name): it stays in new/ for the next run")
                    return 75
                }
                if explain { continue }
                let base = name.split(separator: ":").first.map(String.init) ?? name
                let flags = code == 0 ? "S" : "T"
                do {
                    try fm.moveItem(atPath: file, toPath: (cur as NSString).appendingPathComponent("\(base):2,\(flags)"))
                } catch {
                    complain("cannot move \(name) to cur/: \(error)")
                    return 74
                }
                if code == 0 { handled += 1 } else { refused += 1 }
            }
            if !explain {
                runtime.logger.info("maildir_done", [("handled", handled), ("refused", refused)])
            }
            return 0
        }
    }
}
