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

    /// The longest one message of `dataBytes` octets to `recipients` can legitimately take when
    /// every phase uses its whole limit, a new connection included: TCP and TLS connect, greeting,
    /// EHLO, STARTTLS, EHLO again, AUTH (up to three exchanges), MAIL, each RCPT, DATA, every
    /// 64 KiB block, the final reply and a RSET. A command's write and its reply each have their
    /// own deadline, so both count. A lease on the message must outlast this.
    public func worstCaseSend(dataBytes: Int, recipients: Int) -> Double {
        let commands = Double(2 + 1 + 3 + 1 + max(recipients, 1) + 1)
        let blocks = Double(max(dataBytes, 1) + 64 * 1024 - 1) / Double(64 * 1024)
        return 2 * connect + greeting + 2 * command * commands + command + dataInitiation
            + blocks.rounded(.down) * dataBlock + dataTermination
    }
}
