/// How long each SMTP phase may take, in seconds (RFC 5321 §4.5.3.2). The RFC's minimums
/// (5 minutes for most commands, 10 for the end of data) suit the open Internet; the defaults here
/// are tight because we talk to a relay on the same network, and a stuck relay should fail fast
/// so the message is retried rather than hold a sender thread.
public struct SMTPTimeouts: Sendable, Equatable {
    public var connect: Double = 10
    public var greeting: Double = 30
    /// EHLO, STARTTLS, AUTH, MAIL, RCPT, RSET, QUIT.
    public var command: Double = 30
    /// The 354 after DATA.
    public var dataInitiation: Double = 30
    /// Each block of message data written.
    public var dataBlock: Double = 30
    /// The reply after the final dot: the server may be scanning the message.
    public var dataTermination: Double = 60

    public init() {}

    /// Every phase set to the same limit; handy for tests and for `?timeout=` in the URL.
    public init(all seconds: Double) {
        connect = seconds
        greeting = seconds
        command = seconds
        dataInitiation = seconds
        dataBlock = seconds
        dataTermination = seconds
    }
}
