/// The SMTP envelope (RFC 5321 §2.3.1): who the server should bounce to and deliver to,
/// independent of the From and To headers inside the message.
public struct Envelope: Sendable, Equatable {
    /// The reverse path; empty for a null sender (`MAIL FROM:<>`).
    public var sender: String
    public var recipients: [String]

    public init(sender: String, recipients: [String]) {
        self.sender = sender
        self.recipients = recipients
    }
}
