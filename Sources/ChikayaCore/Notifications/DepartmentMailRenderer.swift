import Foundation
import Mail

/// Turns a claimed 'department' notification and its complaint's details into the email the
/// office receives, in the department's working language, threaded per complaint.
public struct DepartmentMailRenderer: Sendable {
    /// The department templates and the placeholders each may use, for `MailTemplates.load`.
    public static let templates: [String: Set<String>] = [
        "department_assigned": ["reference", "department", "arrondissement", "date", "text", "explanation",
                                "attachments", "citizen", "reassigned_from", "note"],
        // A citizen's reply by email, forwarded to the office (the note is what the citizen wrote).
        "department_citizen_note": ["reference", "department", "arrondissement", "date", "text", "explanation",
                                    "attachments", "citizen", "reassigned_from", "note"],
        "department_digest": ["department", "office", "date", "new_count", "open_count", "late_count",
                              "new_list", "open_list", "late_list"],
    ]

    public let templates: MailTemplates
    public let from: MailboxAddress
    public let attachmentsURL: String
    public let messageIDDomain: String

    public init(templates: MailTemplates, from: MailboxAddress, attachmentsURL: String) {
        self.templates = templates
        self.from = from
        self.attachmentsURL = attachmentsURL
        self.messageIDDomain = from.messageIDDomain
    }

    public func message(for notification: ClaimedNotification, delivery: DepartmentDelivery) throws -> MIMEMessage {
        let language = templates.language(notification.language, otherwise: "fr")
        let arabic = language == "ar"
        var values = [
            "reference": delivery.reference,
            "department": arabic ? delivery.departmentNameAR : delivery.departmentNameFR,
            "arrondissement": (arabic ? delivery.arrondissementAR : delivery.arrondissementFR) ?? (arabic ? "غير محددة" : "non précisé"),
            "date": CityTime.minute(delivery.submittedAt),
            "text": delivery.body,
            "explanation": explanation(delivery, arabic: arabic),
            "attachments": delivery.attachments.map { "\($0.fileName) — \(attachmentsURL)\(Self.pathEncoded($0.storageKey))" }
                .joined(separator: "\n"),
            "reassigned_from": delivery.fromDepartment ?? "",
            "note": delivery.note ?? "",
        ]
        // Personal data only for a complaint that is not anonymous; the query already blanks it.
        values["citizen"] = delivery.anonymous ? "" : [delivery.citizenName, delivery.citizenEmail, delivery.citizenPhone]
            .compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }.joined(separator: ", ")
        var message = try templates.outboxMessage(for: notification, reference: delivery.reference, language: language,
                                                  values: values, from: from, messageIDDomain: messageIDDomain)
        message.replyTo = delivery.replyTo.map { MailboxAddress($0) } ?? from
        // The office's thread for this complaint, apart from the citizen's (another mailbox anyway).
        let thread = "<dept.\(delivery.reference.lowercased())@\(messageIDDomain)>"
        message.inReplyTo = thread
        message.references = [thread]
        return message
    }

    /// One line: the terms that routed the complaint here and the confidence, or who moved it,
    /// and the earlier complaint it probably repeats when the router found one.
    func explanation(_ delivery: DepartmentDelivery, arabic: Bool) -> String {
        let routing = routingExplanation(delivery, arabic: arabic)
        guard let duplicate = delivery.duplicateOf else { return routing }
        let similarity = String(format: "%.2f", delivery.duplicateSimilarity ?? 0)
        return arabic
            ? "\(routing) — تكرار محتمل للشكاية \(duplicate)، التشابه \(similarity)"
            : "\(routing) — doublon possible de \(duplicate), similarité \(similarity)"
    }

    private func routingExplanation(_ delivery: DepartmentDelivery, arabic: Bool) -> String {
        if let previous = delivery.fromDepartment {
            return arabic ? "أعيد توجيهها من «\(previous)»" : "réaffectée depuis « \(previous) »"
        }
        guard let confidence = delivery.confidence, !delivery.matchedTerms.isEmpty else {
            return arabic ? "توجيه يدوي" : "affectation manuelle"
        }
        let terms = delivery.matchedTerms.prefix(8).joined(separator: ", ")
        let percent = Int((confidence * 100).rounded())
        return arabic ? "الكلمات: \(terms) — الثقة \(percent)٪" : "termes : \(terms) — confiance \(percent) %"
    }

    static func pathEncoded(_ key: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#")
        return key.addingPercentEncoding(withAllowedCharacters: allowed) ?? key
    }
}
