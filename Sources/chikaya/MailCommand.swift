import ChikayaCore
import Foundation

/// `chikaya mail send-test`: checks a relay end to end by sending rendered test messages over one
/// reused connection; the mail benchmark uses it too.
enum MailCommand: Command {
    static let name = "mail"
    static let summary = "check the mail relay by sending test messages"
    static let usage = """
    usage: chikaya mail send-test --from ADDR --to ADDR [--count N]
                                  [--language ar|fr] [--ca-file FILE] [--templates DIR] [--no-pipelining]

    Sends N test messages (default 1), rendered from the 'assigned' template, over ONE connection
    and prints how many went and how long it took.

    The relay is the configuration's: smtp_url (CHIKAYA_SMTP_URL, or smtp_url_file /
    CHIKAYA_SMTP_URL_FILE naming a file only its owner can read), never an argument: a password
    on the command line would show in `ps` and the shell's history.

      --ca-file FILE    PEM file of the CAs to trust instead of the system's
      --templates DIR   template directory (default config/templates)
      --no-pipelining   one command per round trip even when the server offers PIPELINING
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let action = try arguments.requiredPositional("action (send-test)")
        guard action == "send-test" else { throw CLIError.usage("mail: unknown action '\(action)' (expected send-test)") }
        // The relay of the configuration only: a password on the command line would show in
        // `ps` and the shell's history.
        let runtime = try Runtime.load(&arguments, component: "mail")
        try arguments.refuse("--smtp-url", because: "the relay comes from smtp_url (CHIKAYA_SMTP_URL or CHIKAYA_SMTP_URL_FILE), never from the command line, where `ps` shows it")
        guard let url = runtime.configuration.smtpURL else {
            throw CLIError.configuration("mail send-test: no relay: set smtp_url (CHIKAYA_SMTP_URL, or CHIKAYA_SMTP_URL_FILE)")
        }
        guard let from = try arguments.option("--from") else { throw CLIError.usage("mail send-test: --from is required") }
        guard let to = try arguments.option("--to") else { throw CLIError.usage("mail send-test: --to is required") }
        let count = try arguments.intOption("--count", default: 1, range: 1...1_000_000)
        let language = try arguments.option("--language") ?? "fr"
        guard ["ar", "fr"].contains(language) else { throw CLIError.usage("mail send-test: --language is ar or fr, not '\(language)'") }
        let caFile = try arguments.option("--ca-file") ?? runtime.configuration.smtpCAFile
        let directory = try arguments.option("--templates") ?? "config/templates"
        let pipelining = !arguments.flag("--no-pipelining")
        try arguments.finish()

        let configuration: SMTPConfiguration
        do { configuration = try SMTPConfiguration(url: url, caFile: caFile) } catch {
            throw CLIError.configuration("mail send-test: \(error)")
        }
        let templates: MailTemplates
        do { templates = try MailTemplates.load(directory: directory, templates: CitizenMailRenderer.templates) } catch {
            throw CLIError.configuration("mail send-test: \(error)")
        }
        let department = language == "ar" ? "الإنارة العمومية" : "Éclairage public"
        let rendered: RenderedMail
        do {
            rendered = try templates.render("assigned", language: language, values: [
                "reference": "TEST-0001", "department": department,
                "status": language == "ar" ? "محالة" : "transmise",
                "note": language == "ar" ? "رسالة اختبار" : "message de test",
                "tracking_url": "https://chikaya.example/suivi/TEST-0001",
            ])
        } catch {
            throw CLIError.configuration("mail send-test: \(error)")
        }

        let started = Date()
        let connection: SMTPConnection
        do {
            let tls = try TLSContext(caFile: configuration.caFile, loadTrustAnchors: configuration.tls != .none)
            connection = try SMTPConnection(configuration: configuration, tls: tls)
        } catch {
            throw CLIError.unavailable("mail send-test: \(configuration): \(error)")
        }
        connection.usePipelining = pipelining
        var sent = 0
        var octets = 0
        defer { connection.close() }
        // Groups of up to 100 messages, each group one pipelined stream (one round trip a
        // message), as the notifier sends its batches.
        let sender = MailboxAddress(from)
        let recipient = MailboxAddress(to)
        let domain = sender.messageIDDomain
        var group: [(envelope: Envelope, data: [UInt8])] = []
        group.reserveCapacity(100)
        while sent < count {
            group.removeAll(keepingCapacity: true)
            for _ in 0..<min(100, count - sent) {
                let message = MIMEMessage(from: sender, to: [recipient], subject: rendered.subject,
                                          textBody: rendered.text, htmlBody: rendered.html, language: language,
                                          messageIDDomain: domain)
                do {
                    let data = try message.render(date: Date())
                    octets = data.count
                    group.append((message.envelope, data))
                } catch {
                    throw CLIError.dataError("mail send-test: \(error)")
                }
            }
            for outcome in connection.send(group: group) {
                switch outcome {
                case .accepted: sent += 1
                case .failed(let error): throw CLIError.unavailable("mail send-test: after \(sent) sent: \(error)")
                case .notSent: throw CLIError.unavailable("mail send-test: after \(sent) sent: the session ended")
                }
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(sent) / elapsed : 0
        print("sent \(sent) message(s) to \(configuration) in \(String(format: "%.3f", elapsed)) s (\(String(format: "%.1f", rate)) messages/s; pipelining \(pipelining && connection.extensions.offers("PIPELINING") ? "used" : "not used"), TLS \(connection.isEncrypted ? "on" : "off"); \(octets) octets a message)")
        return 0
    }
}
