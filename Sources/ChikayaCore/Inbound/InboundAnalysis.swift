import Foundation
import Mail

/// What an inbound message is, as `chikaya mail-in --explain` names it.
public enum InboundKind: String, Sendable {
    case bounce
    case autoReply = "auto_reply"
    case departmentReply = "department_reply"
    case citizenReply = "citizen_reply"
    case unsubscribe
    case other
}

/// The envelope the MTA hands over with the message (Postfix's `${sender}` and
/// `${original_recipient}`); either may be missing, and is then read from the headers.
public struct InboundEnvelope: Sendable {
    public var sender: String?
    public var recipient: String?

    public init(sender: String? = nil, recipient: String? = nil) {
        self.sender = sender
        self.recipient = recipient
    }
}

/// Everything read from one message before the database is asked anything: whom it was sent
/// to and whether that address is one we signed, whether it is a bounce or an automatic reply,
/// and for a reply its new text and command. Pure, so `--explain` and the tests share it.
public struct InboundAnalysis: Sendable {
    public let envelopeSender: String?
    public let recipient: String?
    public let fromAddress: String?
    public let messageID: String?
    public let token: InboundAddressing.Verification
    /// The kind this far: replies stay `.other` until their sender is known (`InboundProcessor`).
    public let kind: InboundKind
    public let report: DeliveryReport?
    public let autoReason: String?
    public let reply: SeparatedReply?
    public let command: ReplyCommand?

    public var tokenWord: String {
        switch token {
        case .valid: "valid"
        case .invalid: "invalid"
        case .none: "none"
        }
    }

    /// A reply to one of our reply addresses, signed, written by a person: who sent it decides
    /// whether it is the office's or the citizen's.
    public var isSignedPersonalReply: Bool {
        if case .valid(.reply, _, _) = token, autoReason == nil, report == nil { return true }
        return false
    }
}

/// Reads a parsed message into an `InboundAnalysis`.
public struct InboundAnalyzer: Sendable {
    /// Nil when no secret is configured: every address then verifies as `.invalid` or `.none`.
    public let addressing: InboundAddressing?
    public let localParts: [InboundAddressing.Kind: String]
    public let delimiter: String
    public let domain: String

    public init(addressing: InboundAddressing?, domain: String, delimiter: String = "+",
                localParts: [InboundAddressing.Kind: String] = [.bounce: "bounces", .reply: "reply", .unsubscribe: "unsubscribe"]) {
        self.addressing = addressing
        self.localParts = addressing?.localParts ?? localParts
        self.delimiter = delimiter
        self.domain = domain.lowercased()
    }

    public func analyze(_ message: MIMEPart, envelope: InboundEnvelope) -> InboundAnalysis {
        let headers = message.headers
        let sender = envelope.sender ?? headers["Return-Path"].map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) }
        let recipient = envelope.recipient ?? headers["Delivered-To"] ?? headers["X-Original-To"] ?? headers["Envelope-To"]
            ?? headers.decoded("To").flatMap(TextScanning.firstAddress(in:))
        let token = recipient.map(verify) ?? .none
        let from = headers.decoded("From").flatMap(TextScanning.firstAddress(in:))
        let autoReason = AutoReplyDetector.reason(headers, envelopeSender: sender)

        var report = DeliveryReportParser.parse(message)
        // A report is a bounce when it came to a return path or from a mail system; a person
        // forwarding a bounce to a reply address has not bounced anything.
        if let found = report, found.format != "rfc3464", !isAddress(token, .bounce),
           !DeliveryReportParser.looksLikeBounce(headers), !(sender?.isEmpty ?? false) {
            report = nil
        }
        if report == nil, isAddress(token, .bounce), autoReason == "null-sender" || autoReason == "mailer-daemon" {
            // A mail system answered our return path in no format we know: still a bounce, for
            // the recipient of that notification, with whatever status the text gives.
            let text = message.bodyText ?? ""
            let status = TextScanning.enhancedStatus(in: text) ?? "5.0.0"
            report = DeliveryReport(format: "unknown", failures: [
                DeliveryFailure(recipient: "", status: status, action: "failed", diagnostic: nil, permanent: status.hasPrefix("5")),
            ], originalMessageID: nil)
        }

        var kind: InboundKind = .other
        var reply: SeparatedReply?
        var command: ReplyCommand?
        if report != nil {
            kind = .bounce
        } else if case .valid(.unsubscribe, _, _) = token {
            kind = .unsubscribe
        } else if autoReason != nil {
            kind = .autoReply
        } else if case .valid(.reply, _, _) = token {
            let separated = QuotedTextSeparator.separate(message.bodyText ?? "")
            reply = separated
            command = ReplyCommandParser.parse(separated.newText)
        }
        return InboundAnalysis(envelopeSender: sender, recipient: recipient, fromAddress: from,
                               messageID: headers["Message-ID"], token: token, kind: kind, report: report,
                               autoReason: autoReason, reply: reply, command: command)
    }

    private func isAddress(_ token: InboundAddressing.Verification, _ kind: InboundAddressing.Kind) -> Bool {
        switch token {
        case .valid(let found, _, _), .invalid(let found, _): found == kind
        case .none: false
        }
    }

    /// Without a secret, an address shaped like ours cannot be trusted: `.invalid`.
    private func verify(_ address: String) -> InboundAddressing.Verification {
        if let addressing { return addressing.verify(address) }
        let bare = address.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")).lowercased()
        guard bare.hasSuffix("@" + domain) else { return .none }
        for (kind, local) in localParts where bare.hasPrefix(local.lowercased() + delimiter) {
            return .invalid(kind, reason: "no inbound secret configured")
        }
        return .none
    }
}

