import Foundation
import Mail

/// Turns what `mail-in` tells the city (`InboundNotice`) into its email: the answer to an
/// office's command, in the office's working language, threaded under the office's own message;
/// or the alert, to the triage cell, that an office address bounces. No citizen data in either.
public struct InboundNoticeRenderer: Sendable {
    /// The templates and the placeholders each may use, for `MailTemplates.load`.
    public static let templates: [String: Set<String>] = [
        "department_command_answer": ["reference", "department", "command", "result", "accepted", "refused"],
        "office_bounced": ["reference", "department", "department_code", "arrondissement", "office", "status", "diagnostic"],
    ]

    public let templates: MailTemplates
    public let from: MailboxAddress
    public let messageIDDomain: String

    public init(templates: MailTemplates, from: MailboxAddress) {
        self.templates = templates
        self.from = from
        self.messageIDDomain = from.messageIDDomain
    }

    public func message(for notification: ClaimedNotification, notice: InboundNotice) throws -> MIMEMessage {
        let language = templates.language(notification.language, otherwise: "fr")
        let arabic = language == "ar"
        let department = (arabic ? notice.departmentNameAR : notice.departmentNameFR) ?? notice.department ?? "-"
        var values = ["reference": notice.reference, "department": department]
        if notice.kind == "office_bounced" {
            values["department_code"] = notice.department ?? ""
            values["arrondissement"] = (arabic ? notice.arrondissementAR : notice.arrondissementFR) ?? ""
            values["office"] = notice.office
            values["status"] = notice.reason ?? ""
            values["diagnostic"] = notice.detail ?? ""
        } else {
            let accepted = notice.kind == "command_accepted"
            values["accepted"] = accepted ? "1" : ""
            values["refused"] = accepted ? "" : "1"
            values["command"] = Self.commandLabel(notice.command ?? "none", arabic: arabic)
            values["result"] = Self.result(notice, arabic: arabic)
        }
        var message = try templates.outboxMessage(for: notification, reference: notice.reference, language: language,
                                                  values: values, from: from, messageIDDomain: messageIDDomain)
        // The answer sits in the office's thread for this complaint, under the message it answers
        // when that message's id is one we can repeat safely.
        let thread = "<dept.\(notice.reference.lowercased())@\(messageIDDomain)>"
        if let original = notice.inReplyTo, Self.isPlainMessageID(original) {
            message.inReplyTo = original
            message.references = [thread, original]
        } else if notice.kind != "office_bounced" {
            message.inReplyTo = thread
            message.references = [thread]
        }
        return message
    }

    static func isPlainMessageID(_ id: String) -> Bool {
        id.count <= 250 && id.hasPrefix("<") && id.hasSuffix(">") && id.contains("@")
            && id.utf8.allSatisfy { $0 > 32 && $0 < 127 } && !id.dropFirst().dropLast().contains { $0 == "<" || $0 == ">" }
    }

    /// A status as offices read it.
    static func statusLabel(_ status: String, arabic: Bool) -> String {
        let labels: [String: (String, String)] = [
            "received": ("reçue", "متوصل بها"), "assigned": ("affectée", "مسندة"), "in_progress": ("en cours", "قيد المعالجة"),
            "resolved": ("résolue", "تم الحل"), "rejected": ("rejetée", "مرفوضة"),
        ]
        guard let label = labels[status] else { return status }
        return arabic ? label.1 : label.0
    }

    /// The command as the office wrote it, in its language.
    static func commandLabel(_ command: String, arabic: Bool) -> String {
        if command.hasPrefix("reassign:") {
            let code = String(command.dropFirst("reassign:".count))
            return arabic ? "تحويل \(code)" : "réaffecter \(code)"
        }
        switch command {
        case "in_progress": return arabic ? "قيد المعالجة" : "en cours"
        case "resolved": return arabic ? "تم الحل" : "résolu"
        case "rejected": return arabic ? "مرفوض" : "rejeté"
        case "incomplete": return arabic ? "أمر ناقص" : "commande incomplète"
        default: return arabic ? "(بدون أمر)" : "(aucune commande)"
        }
    }

    /// One sentence: what the command did, or why it was refused.
    static func result(_ notice: InboundNotice, arabic: Bool) -> String {
        let detail = notice.detail ?? ""
        let parts = detail.components(separatedBy: "->")
        if notice.kind == "command_accepted" {
            if notice.reason == "unchanged" {
                let status = statusLabel(detail, arabic: arabic)
                return arabic ? "الشكاية كانت أصلا «\(status)»؛ لم يتغير شيء." : "la réclamation était déjà « \(status) » ; rien n'a changé."
            }
            if notice.command?.hasPrefix("reassign:") == true, parts.count == 2 {
                return arabic ? "حولت الشكاية من «\(parts[0])» إلى «\(parts[1])»." : "la réclamation est passée du service « \(parts[0]) » au service « \(parts[1]) »."
            }
            if parts.count == 2 {
                let before = statusLabel(parts[0], arabic: arabic), after = statusLabel(parts[1], arabic: arabic)
                return arabic ? "أصبحت الشكاية «\(after)» (كانت «\(before)»)." : "la réclamation est maintenant « \(after) » (elle était « \(before) »)."
            }
            return arabic ? "نفذ الأمر." : "la commande a été appliquée."
        }
        switch notice.reason {
        case "no_command":
            return arabic ? "لم نجد أمرا معروفا في السطر الأول من رسالتكم." : "aucune commande reconnue sur la première ligne de votre message."
        case "reason_missing":
            return arabic ? "الرفض يحتاج إلى سببه: مرفوض: السبب." : "un rejet doit donner son motif : rejeté: motif."
        case "department_missing":
            return arabic ? "التحويل يحتاج إلى رمز المصلحة: تحويل المصلحة." : "une réaffectation doit nommer le service : réaffecter SERVICE."
        case "unknown_department":
            return arabic ? "لا توجد مصلحة بالرمز «\(detail)»." : "aucun service n'a le code « \(detail) »."
        case "already_there":
            return arabic ? "الشكاية أصلا لدى المصلحة «\(detail)»." : "la réclamation est déjà au service « \(detail) »."
        case "not_allowed":
            let status = statusLabel(detail, arabic: arabic)
            return arabic ? "الشكاية «\(status)» ولا يمكن تطبيق هذا الأمر عليها في هذه الحالة."
                : "la réclamation est « \(status) » : cette commande n'est pas possible dans cet état."
        default:
            return arabic ? "تعذر تطبيق الأمر." : "la commande n'a pas pu être appliquée."
        }
    }
}
