import Foundation
import Mail

/// Turns a claimed notification into the email the citizen receives: the template of its
/// status in its language, filled with the complaint's reference, department, status, note
/// and tracking link.
public struct CitizenMailRenderer: Sendable {
    public let templates: MailTemplates
    public let from: MailboxAddress
    public let trackingURL: String
    public let defaultLanguage: String
    public let messageIDDomain: String

    public init(templates: MailTemplates, from: MailboxAddress, trackingURL: String, defaultLanguage: String) {
        self.templates = templates
        self.from = from
        self.trackingURL = trackingURL
        self.defaultLanguage = defaultLanguage
        self.messageIDDomain = from.messageIDDomain
    }

    /// The citizen's templates and the placeholders each may use, for `MailTemplates.load`: one
    /// per status a citizen hears about, and `triage` (assigned to the triage cell, which routes
    /// by hand). Which one a notification gets is decided where the notification is written, by
    /// the trigger `complaints_record_change` (migration 2): the new status, or `triage`.
    public static let templates: [String: Set<String>] = Dictionary(
        uniqueKeysWithValues: ["assigned", "in_progress", "resolved", "rejected", "triage"].map { ($0, placeholders) })
    static let placeholders: Set<String> = ["reference", "department", "status", "note", "tracking_url"]

    /// Words a citizen understands for each status, per language.
    static let statusWords: [String: [String: String]] = [
        "fr": ["received": "reçue", "assigned": "transmise au service compétent", "in_progress": "en cours de traitement",
               "resolved": "résolue", "rejected": "rejetée"],
        "ar": ["received": "مستلمة", "assigned": "محالة على المصلحة المختصة", "in_progress": "في طور المعالجة",
               "resolved": "تمت معالجتها", "rejected": "مرفوضة"],
    ]

    public func language(of notification: ClaimedNotification) -> String {
        templates.language(notification.language, otherwise: defaultLanguage)
    }

    /// The message, with a Message-ID fixed by the notification's id (`outboxMessage`).
    public func message(for notification: ClaimedNotification) throws -> MIMEMessage {
        let language = language(of: notification)
        let department = language == "ar" ? notification.departmentNameAR : notification.departmentNameFR
        let values = [
            "reference": notification.reference,
            "department": department ?? notification.departmentCode ?? "",
            "status": Self.statusWords[language]?[notification.eventStatus] ?? notification.eventStatus,
            "note": notification.note ?? "",
            "tracking_url": trackingURL + notification.reference,
        ]
        var message = try templates.outboxMessage(for: notification, reference: notification.reference, language: language,
                                                  values: values, from: from, messageIDDomain: messageIDDomain)
        // Every email about one complaint threads under the first one.
        let thread = "<\(notification.reference.lowercased())@\(messageIDDomain)>"
        message.inReplyTo = thread
        message.references = [thread]
        return message
    }
}
