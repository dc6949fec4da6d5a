import Foundation
import Mail
import Postgres

/// The daily digest of each department office: what came since the last digest, what is open
/// (oldest first, with age), what is late. Printed, or emailed once per office and day.
public struct Digest: Sendable {
    /// What happened to one office's digest in a `--send` run.
    public enum Outcome: Sendable, Equatable {
        case sent(recipient: String)
        case alreadySent
        case noContact
        case failed(String)
    }

    public let offices: [DigestOffice]
    public let day: String
    public let at: Date

    public static func load(department: String?, date: String?, on db: PostgresConnection) throws(PostgresError) -> Digest {
        let (day, at) = try DigestStore.day(date, on: db)
        return Digest(offices: try DigestStore.offices(department: department, day: day, at: at, on: db), day: day, at: at)
    }

    /// The three lists of an office as lines, each `REFERENCE  arrondissement  status  age`.
    public static func lists(_ office: DigestOffice) -> (new: [String], open: [String], late: [String]) {
        func line(_ e: DigestEntry) -> String {
            var text = "\(e.reference)  \(e.arrondissement ?? "-")  \(e.status)  \(age(e.ageSeconds))"
            if !e.late.isEmpty { text += "  late " + e.late.map(lateWords).joined(separator: ", ") }
            return text
        }
        let open = office.entries.filter { $0.status == "assigned" || $0.status == "in_progress" }
        return (office.entries.filter(\.isNew).map(line), open.map(line), open.filter { !$0.late.isEmpty }.map(line))
    }

    /// "first_action:2" -> "first action +2 d".
    static func lateWords(_ target: String) -> String {
        let parts = target.split(separator: ":")
        guard parts.count == 2 else { return target }
        return "\(parts[0].replacingOccurrences(of: "_", with: " ")) +\(parts[1]) d"
    }

    /// Whole days and hours, e.g. "3 d 4 h".
    public static func age(_ seconds: Double) -> String {
        let hours = max(0, Int(seconds / 3600))
        return hours >= 24 ? "\(hours / 24) d \(hours % 24) h" : "\(hours) h"
    }

    /// The digest email of one office.
    public func message(for office: DigestOffice, recipient: String, templates: MailTemplates,
                        from: MailboxAddress) throws -> MIMEMessage {
        let language = templates.language(office.workingLanguage, otherwise: "fr")
        let (new, open, late) = Self.lists(office)
        let none = language == "ar" ? "(لا شيء)" : "(aucune)"
        let rendered = try templates.render("department_digest", language: language, values: [
            "department": language == "ar" ? office.departmentNameAR : office.departmentNameFR,
            "office": office.office.isEmpty ? (language == "ar" ? "الرئيسي" : "principal") : office.office,
            "date": day,
            "new_count": String(new.count), "open_count": String(open.count), "late_count": String(late.count),
            "new_list": new.isEmpty ? none : new.joined(separator: "\n"),
            "open_list": open.isEmpty ? none : open.joined(separator: "\n"),
            "late_list": late.isEmpty ? none : late.joined(separator: "\n"),
        ])
        let domain = from.messageIDDomain
        var message = MIMEMessage(from: from, to: [MailboxAddress(recipient)], subject: rendered.subject, textBody: rendered.text,
                                  htmlBody: rendered.html, language: language, messageIDDomain: domain)
        let key = "\(office.department).\(office.office.isEmpty ? "default" : office.office).\(day)"
        message.messageID = "<digest.\(key)@\(domain)>"
        message.replyTo = office.replyTo.map { MailboxAddress($0) } ?? from
        return message
    }

    /// Emails each office that has a contact and no digest yet today. The office's row in
    /// `digests_sent` is taken before sending and given back if the send fails, so two runs at
    /// once or one after the other send one digest per office and day. The claim is a lease
    /// longer than the slowest send the SMTP timeouts allow: a run that dies after its claim
    /// leaves the row in `sending`, and a later run takes it over once the lease is over.
    public func send(templates: MailTemplates, from: MailboxAddress, smtp: SMTPConfiguration, tls: TLSContext,
                     on db: PostgresConnection) throws(PostgresError) -> [(office: DigestOffice, outcome: Outcome)] {
        var results: [(DigestOffice, Outcome)] = []
        var connection: SMTPConnection?
        defer { connection?.close() }
        for office in offices {
            guard let recipient = office.recipient else { results.append((office, .noContact)); continue }
            let message: MIMEMessage
            let data: [UInt8]
            do {
                message = try self.message(for: office, recipient: recipient, templates: templates, from: from)
                data = try message.render(date: Date())
            } catch {
                results.append((office, .failed("\(error)")))
                continue
            }
            let lease = smtp.timeouts.worstCaseSend(dataBytes: data.count, recipients: 1) + 60
            guard let token = try DigestStore.claim(department: office.department, office: office.office, day: day,
                                                    recipient: recipient, complaints: office.entries.count,
                                                    leaseSeconds: lease, on: db) else {
                results.append((office, .alreadySent))
                continue
            }
            do {
                let reply = try SMTPConnection.reusing(&connection, configuration: smtp, tls: tls).connection
                    .send(message.envelope, data: data)
                try DigestStore.markSent(department: office.department, office: office.office, day: day, token: token,
                                         messageID: message.messageID, reply: reply.description, on: db)
                results.append((office, .sent(recipient: recipient)))
            } catch let error as PostgresError {
                throw error
            } catch {
                try DigestStore.release(department: office.department, office: office.office, day: day, token: token, on: db)
                results.append((office, .failed("\(error)")))
            }
        }
        return results
    }
}
