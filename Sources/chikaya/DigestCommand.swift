import ChikayaCore
import Foundation

/// `chikaya digest [--send] [--department D] [--date YYYY-MM-DD]`: each office's daily digest.
enum DigestCommand: Command {
    static let name = "digest"
    static let summary = "daily digest per department office: new, open and late complaints"
    static let usage = """
    usage: chikaya digest [--send] [--department D] [--date YYYY-MM-DD]

    Per department and office (an arrondissement's office, or the department's default office):
    the complaints assigned since the office's last digest, those open (oldest first, with their
    age) and those late against the department's deadlines. Only references, arrondissements,
    statuses and ages are listed: no complaint text, no personal data.

    Without --send it prints. With --send it emails each office once per day (Casablanca's
    calendar): the sending is recorded, and a second run the same day sends nothing new. An
    office without a contact is reported, not sent (see 'chikaya departments check').
    config/systemd/chikaya-digest.timer runs it every morning.

    options:
      --send              email the digests (uses smtp_url, mail_from, templates_dir)
      --department D      only this department
      --date YYYY-MM-DD   the day of the digest (default: today); ages are measured at the end
                          of that day, or now for today
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "digest")
        let send = arguments.flag("--send")
        let department = try arguments.option("--department")
        let date = try arguments.option("--date")
        try arguments.finish()
        if let date, date.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) == nil {
            throw CLIError.usage("digest: --date takes YYYY-MM-DD, not '\(date)'")
        }
        let db = try runtime.connect(role: "digest")
        let digest: Digest
        do {
            if let department, try !DepartmentStore.overview(on: db).contains(where: { $0.code == department }) {
                throw CLIError.dataError("digest: unknown department '\(department)'")
            }
            digest = try Digest.load(department: department, date: date, on: db)
        } catch let error as PostgresError {
            throw CLIError.database(error)
        }
        guard send else {
            printDigest(digest)
            return 0
        }
        let configuration = runtime.configuration
        guard let url = configuration.smtpURL else {
            throw CLIError.configuration("digest --send: no SMTP relay configured: set smtp_url or CHIKAYA_SMTP_URL")
        }
        let templates: MailTemplates, smtp: SMTPConfiguration, tls: TLSContext
        do {
            templates = try MailTemplates.load(directory: configuration.templatesDirectory, templates: DepartmentMailRenderer.templates)
            smtp = try SMTPConfiguration(url: url, caFile: configuration.smtpCAFile)
            tls = try TLSContext(caFile: configuration.smtpCAFile)
        } catch {
            throw CLIError.configuration("digest --send: \(error)")
        }
        let results: [(office: DigestOffice, outcome: Digest.Outcome)]
        do {
            results = try digest.send(templates: templates, from: MailboxAddress.parse(configuration.mailFrom), smtp: smtp,
                                      tls: tls, on: db)
        } catch {
            throw CLIError.database(error)
        }
        var failed = 0
        for (office, outcome) in results {
            let name = DepartmentsCommand.officeName(office.department, office.office.isEmpty ? nil : office.office)
            switch outcome {
            case .sent(let recipient): print("\(name): sent to \(recipient) (\(office.entries.count) complaint(s))")
            case .alreadySent: print("\(name): already sent on \(digest.day)")
            case .noContact: print("\(name): no contact, not sent")
            case .failed(let reason):
                failed += 1
                TextOutput.show("\(name): FAILED: \(reason)")
            }
        }
        if results.isEmpty { print("no office has complaints to report on \(digest.day)") }
        return failed > 0 ? 69 : 0
    }

    static func printDigest(_ digest: Digest) {
        print("digest of \(digest.day)")
        if digest.offices.isEmpty { print("(no open complaints)") }
        for office in digest.offices {
            let (new, open, late) = Digest.lists(office)
            let name = DepartmentsCommand.officeName(office.department, office.office.isEmpty ? nil : office.office)
            var head = "\n\(name) -> \(office.recipient ?? "NO CONTACT")"
            if office.alreadySent { head += "  (already sent today)" }
            TextOutput.show(head)
            for (title, lines) in [("new since last digest", new), ("open, oldest first", open), ("late", late)] {
                print("  \(title): \(lines.count)")
                for line in lines { print("    " + TextOutput.escaped(line)) }
            }
        }
    }
}
