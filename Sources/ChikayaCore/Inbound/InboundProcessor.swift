import Foundation
import Mail
import Postgres

/// What `mail-in` did with one message.
public struct InboundResult: Sendable {
    public let kind: InboundKind
    /// `applied`, `refused`, `ignored`, `recorded`, `suppressed`, `counted`.
    public let outcome: String
    public let detail: String?
    public let complaintID: Int64?
    public let notificationID: Int64?
}

/// Why a message could not be handled now or ever; the command line turns these into the
/// exit codes MTAs understand.
public enum InboundError: Error, CustomStringConvertible, Sendable {
    /// The message is refused for good (too large, too deep, empty): exit 65.
    case refused(String)
    /// Try again later (database unreachable, configuration incomplete): exit 75.
    case temporary(String)

    public var description: String {
        switch self {
        case .refused(let reason): "message refused: \(reason)"
        case .temporary(let reason): "try again later: \(reason)"
        }
    }
}

/// The inbound mail path: parse, analyse, then act on the database. One message, one call.
///
/// Everything a message can do is decided by a signed address (`InboundAddressing`) and, for
/// replies, by who sent it: a forged or altered address, or a sender who is neither the office
/// nor the citizen of that complaint, is recorded and ignored, and nothing is sent back (no
/// backscatter).
public struct InboundProcessor: Sendable {
    public let parser: MIMEParser
    public let analyzer: InboundAnalyzer
    public let logger: Logger
    /// Told that an office address bounces when the triage cell cannot be (`admin_email`).
    public let adminEmail: String?

    public init(configuration: Configuration, logger: Logger, limits: MIMELimits = MIMELimits()) throws(MailConfigurationError) {
        self.parser = MIMEParser(limits: limits)
        self.analyzer = InboundAnalyzer(addressing: try configuration.inboundAddressing(), domain: configuration.effectiveInboundDomain,
                                        delimiter: configuration.inboundDelimiter, localParts: configuration.inboundLocalParts)
        self.logger = logger
        self.adminEmail = configuration.adminEmail
    }

    public func analyze(_ raw: [UInt8], envelope: InboundEnvelope) throws(InboundError) -> InboundAnalysis {
        do {
            return analyzer.analyze(try parser.parse(raw), envelope: envelope)
        } catch {
            throw .refused(error.description)
        }
    }

    // MARK: Replies: who wrote

    /// Who wrote a signed reply: the office (or a staff address) of the complaint's department,
    /// its citizen, or somebody else.
    public enum Writer: Sendable, Equatable {
        case office(String)
        case citizen
        case unknown
        case noComplaint
    }

    public func writer(of analysis: InboundAnalysis, target: InboundReplyTarget?) -> Writer {
        guard let target else { return .noComplaint }
        let candidates = [analysis.fromAddress, analysis.envelopeSender].compactMap { $0?.lowercased() }.filter { !$0.isEmpty }
        if let office = candidates.first(where: { target.officeAddresses.contains($0) }) { return .office(office) }
        if let citizen = target.citizenEmail?.lowercased(), candidates.contains(citizen) { return .citizen }
        return .unknown
    }

    private func replyReference(_ analysis: InboundAnalysis) -> String? {
        if case .valid(.reply, let reference, _) = analysis.token { return reference }
        return nil
    }

    private func notificationID(_ analysis: InboundAnalysis) -> Int64? {
        switch analysis.token {
        case .valid(.bounce, let value, _), .valid(.unsubscribe, let value, _): Int64(value)
        default: nil
        }
    }

    // MARK: --explain

    /// The logfmt lines of `mail-in --explain`. Reads the database only for a signed reply (to
    /// tell the office's from the citizen's); changes nothing.
    public func explain(_ analysis: InboundAnalysis, database: () throws(PostgresError) -> PostgresConnection) throws(InboundError) -> [String] {
        var kind = analysis.kind
        var head: [(String, String)] = []
        var extra: [String] = []
        if let reference = replyReference(analysis), analysis.isSignedPersonalReply {
            let target: InboundReplyTarget?
            do { target = try InboundStore.replyTarget(reference: reference, on: try database()) } catch {
                throw .temporary("database: \(error)")
            }
            switch writer(of: analysis, target: target) {
            case .office: kind = .departmentReply
            case .citizen: kind = .citizenReply
            case .unknown: kind = .other; head.append(("sender", "unknown"))
            case .noComplaint: kind = .other; head.append(("complaint", "unknown"))
            }
            head.append(("reference", reference))
            head.append(("command", analysis.command?.explainValue ?? "none"))
        }
        var line: [(String, String)] = [("kind", kind.rawValue), ("token", analysis.tokenWord)]
        switch analysis.token {
        case .valid(let addressKind, let value, let previous):
            line.append(("address", addressKind.rawValue))
            if addressKind != .reply { line.append(("notification", value)) }
            if previous { line.append(("secret", "previous")) }
        case .invalid(let addressKind, let reason):
            line.append(("address", addressKind.rawValue))
            line.append(("reason", reason))
        case .none: break
        }
        line += head
        if let report = analysis.report {
            line.append(("format", report.format))
            line.append(("failed", String(report.failures.count)))
            for failure in report.failures {
                var fields: [(String, String)] = [
                    ("recipient", failure.recipient.isEmpty ? "(notification)" : failure.recipient),
                    ("status", failure.status ?? "unknown"), ("permanent", failure.permanent ? "true" : "false"),
                ]
                if let original = failure.originalRecipient, original.lowercased() != failure.recipient.lowercased() {
                    fields.append(("original_recipient", original))
                }
                if let action = failure.action { fields.append(("action", action)) }
                if let diagnostic = failure.diagnostic { fields.append(("diagnostic", String(diagnostic.prefix(200)))) }
                extra.append(Self.logfmt(fields))
            }
        }
        if let reason = analysis.autoReason, kind == .autoReply { line.append(("reason", reason)) }
        if let command = analysis.command {
            switch command {
            case .setStatus(_, let note), .reassign(_, let note):
                if let note { line.append(("note_chars", String(note.count))) }
            case .incomplete(let reason): line.append(("refusal", reason))
            case .none: break
            }
        }
        return [Self.logfmt(line)] + extra
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { "\($0.0)=\(Logger.quote($0.1))" }.joined(separator: " ")
    }

    // MARK: Handling

    /// Acts on the message. Database failures propagate (the caller answers 75 so the MTA keeps
    /// the message); each action is one transaction, so a retry after a failure redoes it whole.
    public func handle(_ analysis: InboundAnalysis, on db: PostgresConnection) throws(PostgresError) -> InboundResult {
        let result = try act(analysis, on: db)
        try InboundStore.record(kind: result.kind.rawValue, token: analysis.tokenWord, complaintID: result.complaintID,
                                notificationID: result.notificationID, messageID: analysis.messageID,
                                outcome: result.outcome, detail: result.detail, on: db)
        // No addresses and no text in the log: kinds, ids and outcomes only.
        logger.log(result.outcome == "refused" || analysis.tokenWord == "invalid" ? .warn : .info, "inbound_message", [
            ("kind", result.kind.rawValue), ("token", analysis.tokenWord), ("outcome", result.outcome),
            ("notification", result.notificationID.map(String.init) ?? "-"),
            ("complaint", result.complaintID.map(String.init) ?? "-"), ("detail", result.detail ?? "-"),
        ])
        return result
    }

    private func act(_ analysis: InboundAnalysis, on db: PostgresConnection) throws(PostgresError) -> InboundResult {
        if case .invalid(_, let reason) = analysis.token {
            // Forged, altered, or signed with a secret no longer accepted: never acted on.
            return InboundResult(kind: analysis.report != nil ? .bounce : (analysis.autoReason != nil ? .autoReply : .other),
                                 outcome: "refused", detail: "invalid token: \(reason)", complaintID: nil, notificationID: nil)
        }
        switch analysis.kind {
        case .bounce: return try bounce(analysis, on: db)
        case .unsubscribe: return try unsubscribe(analysis, on: db)
        case .autoReply:
            return InboundResult(kind: .autoReply, outcome: "recorded", detail: analysis.autoReason, complaintID: nil,
                                 notificationID: notificationID(analysis))
        default: break
        }
        guard let reference = replyReference(analysis) else {
            return InboundResult(kind: .other, outcome: "ignored", detail: "not addressed to a signed address",
                                 complaintID: nil, notificationID: nil)
        }
        let target = try InboundStore.replyTarget(reference: reference, on: db)
        switch writer(of: analysis, target: target) {
        case .noComplaint:
            return InboundResult(kind: .other, outcome: "ignored", detail: "no complaint \(reference)", complaintID: nil, notificationID: nil)
        case .unknown:
            return InboundResult(kind: .other, outcome: "ignored", detail: "sender is neither the office nor the citizen",
                                 complaintID: target?.complaintID, notificationID: nil)
        case .citizen:
            guard let target else { break }
            let text = analysis.reply?.newText ?? ""
            guard !text.isEmpty else {
                return InboundResult(kind: .citizenReply, outcome: "ignored", detail: "empty reply", complaintID: target.complaintID,
                                     notificationID: nil)
            }
            let citizen = target.citizenEmail ?? ""
            let note = try InboundStore.citizenNote(reference: target.reference, citizen: citizen, body: text, on: db)
            return InboundResult(kind: .citizenReply, outcome: "recorded",
                                 detail: "note \(note.noteID)" + (note.forwarded ? ", forwarded to the office" : ", no office address"),
                                 complaintID: target.complaintID, notificationID: nil)
        case .office(let actor):
            guard let target else { break }
            let command = analysis.command ?? .none("")
            let (result, answer) = try departmentCommand(command, target: target, actor: actor, on: db)
            return try answerOffice(answer, command: command, result: result, target: target, actor: actor,
                                    inReplyTo: analysis.messageID, on: db)
        }
        return InboundResult(kind: .other, outcome: "ignored", detail: nil, complaintID: nil, notificationID: nil)
    }

    /// What the office is told about its command: accepted or refused, a reason code the email
    /// turns into words in the office's language (`InboundNoticeRenderer`), and a detail.
    struct OfficeAnswer {
        let accepted: Bool
        let reason: String?
        let detail: String?
    }

    private func departmentCommand(_ command: ReplyCommand, target: InboundReplyTarget, actor: String,
                                   on db: PostgresConnection) throws(PostgresError) -> (InboundResult, OfficeAnswer) {
        func result(_ outcome: String, _ detail: String) -> InboundResult {
            InboundResult(kind: .departmentReply, outcome: outcome, detail: detail, complaintID: target.complaintID, notificationID: nil)
        }
        do {
            switch command {
            case .setStatus(let status, let note):
                let change = try InboundStore.officeCommand(reference: target.reference, office: actor, status: status,
                                                            department: nil, note: note, on: db)
                let move = "\(change.fromStatus)->\(change.toStatus)"
                guard change.eventID != nil else {
                    return (result("applied", "\(move), unchanged"), OfficeAnswer(accepted: true, reason: "unchanged", detail: change.toStatus))
                }
                return (result("applied", move), OfficeAnswer(accepted: true, reason: nil, detail: move))
            case .reassign(let department, let note):
                let change = try InboundStore.officeCommand(reference: target.reference, office: actor, status: nil,
                                                            department: department, note: note ?? "réaffectée par courriel", on: db)
                guard change.eventID != nil else {
                    return (result("refused", "already with \(department)"),
                            OfficeAnswer(accepted: false, reason: "already_there", detail: department))
                }
                let move = "\(change.fromDepartment ?? "-")->\(change.toDepartment ?? "-")"
                return (result("applied", move), OfficeAnswer(accepted: true, reason: nil, detail: move))
            case .incomplete(let reason):
                let code = reason == ReplyCommandParser.rejectionNeedsReason ? "reason_missing" : "department_missing"
                return (result("refused", reason), OfficeAnswer(accepted: false, reason: code, detail: nil))
            case .none:
                return (result("refused", "no command on the first line"), OfficeAnswer(accepted: false, reason: "no_command", detail: nil))
            }
        } catch {
            switch error {
            case .database(let underlying): throw underlying
            case .unknownDepartment(let code):
                return (result("refused", error.description), OfficeAnswer(accepted: false, reason: "unknown_department", detail: code))
            case .sameDepartment(_, let code):
                return (result("refused", error.description), OfficeAnswer(accepted: false, reason: "already_there", detail: code))
            default:
                return (result("refused", error.description),
                        OfficeAnswer(accepted: false, reason: "not_allowed", detail: target.status))
            }
        }
    }

    /// Queues the office's answer through the outbox. Only ever to the office that wrote (the
    /// database checks it again); a failure to queue it is logged and does not undo the command.
    private func answerOffice(_ answer: OfficeAnswer, command: ReplyCommand, result: InboundResult, target: InboundReplyTarget,
                              actor: String, inReplyTo: String?, on db: PostgresConnection) throws(PostgresError) -> InboundResult {
        let queued: Int64?
        do {
            queued = try InboundStore.answerOffice(reference: target.reference, office: actor, accepted: answer.accepted,
                                                   command: command.explainValue, reason: answer.reason, detail: answer.detail,
                                                   inReplyTo: inReplyTo, on: db)
        } catch {
            guard error.sqlState == "42501" else { throw error }
            logger.warn("inbound_answer_refused", [("complaint", target.complaintID), ("reason", "not an office of the complaint")])
            queued = nil
        }
        let note = queued.map { "answered (notification \($0))" } ?? "not answered (limit reached)"
        return InboundResult(kind: result.kind, outcome: result.outcome, detail: [result.detail, note].compactMap { $0 }.joined(separator: "; "),
                             complaintID: result.complaintID, notificationID: result.notificationID)
    }

    private func bounce(_ analysis: InboundAnalysis, on db: PostgresConnection) throws(PostgresError) -> InboundResult {
        guard let report = analysis.report else {
            return InboundResult(kind: .bounce, outcome: "ignored", detail: nil, complaintID: nil, notificationID: nil)
        }
        var target: InboundNotificationTarget?
        if let id = notificationID(analysis) {
            target = try InboundStore.notification(id: id, on: db)
        } else if let original = report.originalMessageID {
            target = try InboundStore.notification(messageID: original, on: db)
        }
        guard let target else {
            return InboundResult(kind: .bounce, outcome: "ignored", detail: "no notification matches", complaintID: nil,
                                 notificationID: nil)
        }
        // The failure about this notification's recipient; a report about one address only (or
        // one we could not read) is about it even when an alias was expanded on the way.
        let recipient = target.recipient.lowercased()
        let failure = report.failures.first {
            $0.recipient.lowercased() == recipient || $0.originalRecipient?.lowercased() == recipient
        } ?? (report.failures.count == 1 ? report.failures[0] : nil)
        guard let failure else {
            return InboundResult(kind: .bounce, outcome: "ignored", detail: "the report does not name the recipient",
                                 complaintID: target.complaintID, notificationID: target.id)
        }
        let outcome = try InboundStore.recordBounce(notification: target, status: failure.status ?? (failure.permanent ? "5.0.0" : "4.0.0"),
                                                    permanent: failure.permanent, diagnostic: failure.diagnostic, on: db)
        if outcome.officeNewlySuppressed {
            logger.error("office_address_bounced", [("department", target.department ?? "-"), ("notification", target.id),
                                                    ("status", failure.status ?? "-")])
        }
        if outcome.suppressed, target.recipientKind == "department" {
            // Its complaints reach nobody: the triage cell (or the administrator) hears of it,
            // once per suppression (the database keeps the "told" mark with the suppression).
            if let alert = try InboundStore.alertBouncedOffice(address: target.recipient, notificationID: target.id,
                                                               admin: adminEmail, on: db) {
                logger.warn("office_bounce_alert_queued", [("department", target.department ?? "-"), ("notification", alert)])
            }
        }
        return InboundResult(kind: .bounce, outcome: outcome.suppressed ? "suppressed" : "counted",
                             detail: "\(failure.status ?? "-") \(failure.permanent ? "permanent" : "transient")",
                             complaintID: target.complaintID, notificationID: target.id)
    }

    private func unsubscribe(_ analysis: InboundAnalysis, on db: PostgresConnection) throws(PostgresError) -> InboundResult {
        guard let id = notificationID(analysis), let target = try InboundStore.notification(id: id, on: db) else {
            return InboundResult(kind: .unsubscribe, outcome: "ignored", detail: "no such notification", complaintID: nil,
                                 notificationID: nil)
        }
        guard target.recipientKind == "citizen" else {
            // Offices cannot opt out of their complaints by mail.
            return InboundResult(kind: .unsubscribe, outcome: "refused", detail: "not a citizen email",
                                 complaintID: target.complaintID, notificationID: target.id)
        }
        try InboundStore.suppress(address: target.recipient, reason: "unsubscribe", recipientKind: "citizen", on: db)
        return InboundResult(kind: .unsubscribe, outcome: "suppressed", detail: nil, complaintID: target.complaintID,
                             notificationID: target.id)
    }
}
