import Foundation

/// Recognises messages written by a program rather than a person: vacation and out-of-office
/// answers, list and bulk mail, and mail from mailer daemons. They are recorded and never
/// answered (RFC 3834 §2), and never read as commands.
public enum AutoReplyDetector {
    /// The reason a message is automatic (`auto-submitted=auto-replied`, `subject=out-of-office`),
    /// or nil for a message a person wrote.
    public static func reason(_ headers: MIMEHeaders, envelopeSender: String?) -> String? {
        if let value = headers["Auto-Submitted"]?.lowercased() {
            let keyword = value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if !keyword.isEmpty && keyword != "no" { return "auto-submitted=\(keyword)" }
        }
        if let precedence = headers["Precedence"]?.lowercased().trimmingCharacters(in: .whitespaces),
           ["bulk", "junk", "list", "auto_reply", "auto-reply"].contains(precedence) {
            return "precedence=\(precedence)"
        }
        for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"] where headers[name] != nil {
            return "\(name.lowercased())"
        }
        // Exchange stamps what its inbox rules (out-of-office among them) send on their own.
        if headers["X-MS-Exchange-Inbox-Rules-Loop"] != nil { return "exchange-inbox-rule" }
        if headers["List-Id"] != nil || headers["List-Unsubscribe"] != nil && headers["List-Post"] != nil {
            return "mailing-list"
        }
        if let sender = envelopeSender?.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")), sender.isEmpty || isDaemon(sender) {
            return sender.isEmpty ? "null-sender" : "mailer-daemon"
        }
        if let from = headers.decoded("From").flatMap(TextScanning.firstAddress), isDaemon(from) {
            return "mailer-daemon"
        }
        if isOutOfOfficeSubject(headers) { return "subject=out-of-office" }
        return nil
    }

    private static func isDaemon(_ address: String) -> Bool {
        let local = address.lowercased().split(separator: "@").first.map(String.init) ?? ""
        return ["mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "noreply", "no-reply", "do-not-reply", "donotreply"]
            .contains(local) || local.hasPrefix("owner-") || local.hasSuffix("-request")
    }

    private static let outOfOfficeSubjects = [
        "out of office", "out-of-office", "automatic reply", "auto:", "autoreply", "auto-reply", "auto reply",
        "absence du bureau", "reponse automatique", "reponse auto", "absent du bureau", "en conge", "vacation",
        "رد تلقائي", "رد آلي", "خارج المكتب",
    ].map(TextScanning.folded)

    private static func isOutOfOfficeSubject(_ headers: MIMEHeaders) -> Bool {
        let subject = TextScanning.folded(headers.decoded("Subject") ?? "")
        return outOfOfficeSubjects.contains { subject.hasPrefix($0) || subject.contains($0 + " ") || subject.contains($0 + ":") }
    }
}
