import Foundation
import Mail

/// What every email of the outbox does alike, whoever reads it (citizen, office, triage cell):
/// the language its template is rendered in, and the message around the rendered template.
extension MailTemplates {
    /// `wanted` when these templates are written in it, else `fallback`.
    func language(_ wanted: String?, otherwise fallback: String) -> String {
        if let wanted, languages.contains(wanted) { return wanted }
        return fallback
    }

    /// The notification's template rendered in `language` and addressed to its recipient, with a
    /// Message-ID fixed by the notification's id and the complaint's `reference`, so that a resend
    /// after a crash carries the same one. Threading headers are the caller's.
    func outboxMessage(for notification: ClaimedNotification, reference: String, language: String,
                       values: [String: String], from: MailboxAddress, messageIDDomain: String) throws -> MIMEMessage {
        let rendered = try render(notification.template, language: language, values: values)
        return MIMEMessage(from: from, to: [MailboxAddress(notification.recipient)], subject: rendered.subject,
                           textBody: rendered.text, htmlBody: rendered.html, language: language,
                           messageIDDomain: messageIDDomain,
                           messageID: "<n\(notification.id).\(reference.lowercased())@\(messageIDDomain)>")
    }
}
