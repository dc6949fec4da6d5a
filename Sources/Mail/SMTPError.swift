/// Why an SMTP exchange failed, what the server said, and whether retrying the same message can
/// ever help. `description` is safe to log: it never contains credentials.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    /// The stable category of a failure; callers branch on this, not on the text.
    public enum Kind: String, Sendable {
        case connect, timeout, connectionClosed, tls, protocolViolation, rejected
        case invalidAddress, needsSMTPUTF8, needs8BitMIME, messageTooLarge, invalidMessage
        case authentication, unsupported, unusableConnection, sessionRefused
    }

    public let kind: Kind
    /// The SMTP phase the failure happened in: "greeting", "EHLO", "RCPT", "end of data", ...
    public let phase: String
    public let reply: SMTPReply?
    public let detail: String

    public init(_ kind: Kind, phase: String, reply: SMTPReply? = nil, detail: String = "") {
        self.kind = kind
        self.phase = phase
        self.reply = reply
        self.detail = detail
    }

    /// True when the same message will fail again whatever we do: a 5xx reply, a bad address,
    /// a message this server cannot take. Network trouble, timeouts and 4xx are worth a retry.
    public var isPermanent: Bool {
        switch kind {
        case .rejected: reply?.isPermanentNegative ?? false
        case .invalidAddress, .needsSMTPUTF8, .needs8BitMIME, .messageTooLarge, .invalidMessage: true
        default: false
        }
    }

    public var description: String {
        var text = "SMTP \(kind.rawValue) during \(phase)"
        if let reply { text += ": server replied \(reply)" }
        if !detail.isEmpty { text += (reply == nil ? ": " : "; ") + detail }
        return text
    }
}
