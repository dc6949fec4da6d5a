import Foundation

/// One SMTP session with a relay, reused for many messages. Blocking I/O with a deadline per phase:
/// call it from a thread of its own, never from Swift's cooperative pool. Not thread-safe.
///
/// Once a failure leaves the session in doubt (421, a drop, a timeout, a reply out of step) the
/// connection turns unusable and must be replaced; a plain refused transaction is followed by
/// RSET and the connection stays in service.
public final class SMTPConnection {
    public let configuration: SMTPConfiguration
    public private(set) var greeting = SMTPReply(code: 0, lines: [])
    public private(set) var extensions = SMTPExtensions()
    /// Whether the session is encrypted (after implicit TLS or STARTTLS).
    public var isEncrypted: Bool { channel.isTLS }
    /// Pipelining can be switched off to measure or to work around a broken server.
    public var usePipelining = true

    private let channel: SocketChannel
    private let tls: TLSContext
    private var broken = false
    private var closed = false

    public var isUsable: Bool { !broken && !closed }

    /// Told each phase's name and duration in seconds, for metrics: `connect` (TCP), `tls` (a
    /// handshake, with the STARTTLS command), `greeting`, `ehlo`, `auth`, then per message
    /// `envelope` (MAIL, RCPT, DATA up to 354) and `data` (the message up to the final reply).
    /// Only phases that end well are timed.
    public typealias PhaseObserver = @Sendable (_ phase: String, _ seconds: Double) -> Void
    private let observe: PhaseObserver?
    private let clock = ContinuousClock()

    public init(configuration: SMTPConfiguration, tls: TLSContext, observe: PhaseObserver? = nil) throws(SMTPError) {
        self.configuration = configuration
        self.tls = tls
        self.observe = observe
        let connecting = clock.now
        channel = try SocketChannel(host: configuration.host, port: configuration.port, timeout: configuration.timeouts.connect)
        observed("connect", since: connecting)
        do {
            try openSession()
        } catch {
            broken = true
            channel.close()
            throw error
        }
    }

    deinit { channel.close() }

    private func openSession() throws(SMTPError) {
        let timeouts = configuration.timeouts
        if configuration.tls == .implicit {
            let handshake = clock.now
            try channel.startTLS(context: tls, serverName: configuration.host, timeout: timeouts.connect)
            observed("tls", since: handshake)
        }
        let greeted = clock.now
        greeting = try readReply(timeout: timeouts.greeting, phase: "greeting")
        guard greeting.code == 220 else {
            throw SMTPError(.sessionRefused, phase: "greeting", reply: greeting)
        }
        observed("greeting", since: greeted)
        try hello()
        if configuration.tls == .startTLS {
            guard extensions.offers("STARTTLS") else {
                throw SMTPError(.unsupported, phase: "STARTTLS",
                                detail: "the server does not offer STARTTLS; use tls=none only for a trusted local relay")
            }
            let handshake = clock.now
            let reply = try command("STARTTLS", timeout: timeouts.command, phase: "STARTTLS")
            guard reply.code == 220 else { throw SMTPError(.sessionRefused, phase: "STARTTLS", reply: reply) }
            // Anything already buffered was sent in clear before the handshake and could be an
            // injected reply; RFC 3207 §6 says to trust nothing from before TLS.
            guard !channel.hasBufferedInput else {
                throw SMTPError(.protocolViolation, phase: "STARTTLS", detail: "data received before the TLS handshake")
            }
            try channel.startTLS(context: tls, serverName: configuration.host, timeout: timeouts.connect)
            observed("tls", since: handshake)
            extensions = SMTPExtensions()
            try hello()
        }
        if configuration.hasCredentials {
            let authenticating = clock.now
            try authenticate()
            observed("auth", since: authenticating)
        }
    }

    private func observed(_ phase: String, since start: ContinuousClock.Instant) {
        guard let observe else { return }
        let elapsed = (clock.now - start).components
        observe(phase, Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
    }

    /// EHLO, or HELO when the server does not know EHLO (500/502).
    private func hello() throws(SMTPError) {
        let started = clock.now
        try exchangeHello()
        observed("ehlo", since: started)
    }

    private func exchangeHello() throws(SMTPError) {
        let name = configuration.heloName
        let reply = try command("EHLO \(name)", timeout: configuration.timeouts.command, phase: "EHLO")
        if reply.isPositiveCompletion {
            extensions = SMTPExtensions(ehloReply: reply)
            return
        }
        guard reply.code == 500 || reply.code == 502 else {
            throw SMTPError(.sessionRefused, phase: "EHLO", reply: reply)
        }
        let helo = try command("HELO \(name)", timeout: configuration.timeouts.command, phase: "HELO")
        guard helo.isPositiveCompletion else { throw SMTPError(.sessionRefused, phase: "HELO", reply: helo) }
        extensions = SMTPExtensions()
    }

    /// AUTH PLAIN (RFC 4616) or LOGIN; the credentials go out base64 and never into an error.
    private func authenticate() throws(SMTPError) {
        guard channel.isTLS || configuration.allowInsecureAuth else {
            throw SMTPError(.authentication, phase: "AUTH", detail: "refusing to send the password over an unencrypted connection")
        }
        let user = configuration.username ?? ""
        let password = configuration.password ?? ""
        let mechanisms = extensions.authMechanisms
        let timeout = configuration.timeouts.command
        let reply: SMTPReply
        if mechanisms.contains("PLAIN") {
            let token = Data(([0] + Array(user.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            reply = try command("AUTH PLAIN \(token)", timeout: timeout, phase: "AUTH")
        } else if mechanisms.contains("LOGIN") {
            let start = try command("AUTH LOGIN", timeout: timeout, phase: "AUTH")
            guard start.code == 334 else { throw SMTPError(.authentication, phase: "AUTH", reply: start) }
            let afterUser = try command(Data(user.utf8).base64EncodedString(), timeout: timeout, phase: "AUTH")
            guard afterUser.code == 334 else { throw SMTPError(.authentication, phase: "AUTH", reply: afterUser) }
            reply = try command(Data(password.utf8).base64EncodedString(), timeout: timeout, phase: "AUTH")
        } else {
            throw SMTPError(.unsupported, phase: "AUTH",
                            detail: "the server offers no PLAIN or LOGIN authentication (offers: \(mechanisms.sorted().joined(separator: " ")))")
        }
        guard reply.code == 235 else { throw SMTPError(.authentication, phase: "AUTH", reply: reply) }
    }

    /// Sends one message. Returns the server's reply to the final dot, which says it took it.
    @discardableResult
    public func send(_ envelope: Envelope, data: [UInt8]) throws(SMTPError) -> SMTPReply {
        guard isUsable else {
            throw SMTPError(.unusableConnection, phase: "MAIL", detail: "this connection failed earlier or was closed; open a new one")
        }
        let message = try prepare(envelope, data: data)
        let timeouts = configuration.timeouts
        let enveloping = clock.now
        if pipelines {
            try io { () throws(SMTPError) in try channel.write(message.commands, timeout: limited(timeouts.command), phase: "MAIL") }
            if let refusal = try readEnvelopeReplies(message) { throw refusal }
        } else {
            try sendEnvelopeInTurn(message)
        }
        observed("envelope", since: enveloping)
        let sending = clock.now
        try writeData(message.stream, then: [])
        let final = try readFinalReply()
        guard final.isPositiveCompletion else {
            throw SMTPError(.rejected, phase: "end of data", reply: final)
        }
        observed("data", since: sending)
        return final
    }

    /// Sends several messages over this session, one outcome per message in the same order.
    ///
    /// With PIPELINING (RFC 2920 §3.1 lets the message content start a group) each message's
    /// content goes in one write with the next message's MAIL, RCPT and DATA: one round trip a
    /// message instead of two. Without it, the messages go one after the other as `send` does.
    /// Once a failure ends the session, the messages after it are `notSent`: the server never saw
    /// their content, so they can go again on another connection. With `within`, every phase's
    /// timeout is cut so that the whole group ends within that many seconds (a lease on the group
    /// can then be sized for it); what the cut interrupts fails as a timeout.
    public func send(group messages: [(envelope: Envelope, data: [UInt8])], within budget: Double? = nil) -> [SMTPDeliveryOutcome] {
        var outcomes = [SMTPDeliveryOutcome](repeating: .notSent, count: messages.count)
        guard isUsable else {
            if !outcomes.isEmpty {
                outcomes[0] = .failed(SMTPError(.unusableConnection, phase: "MAIL",
                                                detail: "this connection failed earlier or was closed; open a new one"))
            }
            return outcomes
        }
        groupDeadline = budget.map { Deadline(secondsFromNow: $0) }
        defer { groupDeadline = nil }
        var prepared: [(index: Int, message: PreparedMessage)] = []
        prepared.reserveCapacity(messages.count)
        for (index, item) in messages.enumerated() {
            do { prepared.append((index, try prepare(item.envelope, data: item.data))) } catch { outcomes[index] = .failed(error) }
        }
        guard pipelines else {
            for (index, message) in prepared {
                do {
                    let enveloping = clock.now
                    try sendEnvelopeInTurn(message)
                    observed("envelope", since: enveloping)
                    let sending = clock.now
                    try writeData(message.stream, then: [])
                    outcomes[index] = try dataOutcome(since: sending)
                } catch {
                    outcomes[index] = .failed(error)
                }
                if !isUsable { break }
            }
            return outcomes
        }
        let timeouts = configuration.timeouts
        var envelopeWritten = false
        // The envelope phase runs from the write that carried the commands to the 354, the data
        // phase from the content's write to the final reply, as for `send`.
        var enveloping = clock.now
        for (position, (index, message)) in prepared.enumerated() {
            do {
                if !envelopeWritten {
                    enveloping = clock.now
                    try io { () throws(SMTPError) in try channel.write(message.commands, timeout: limited(timeouts.command), phase: "MAIL") }
                }
                envelopeWritten = false
                if let refusal = try readEnvelopeReplies(message) {
                    outcomes[index] = .failed(refusal)
                    if !isUsable { break }
                    continue
                }
                observed("envelope", since: enveloping)
                let next = position + 1 < prepared.count ? prepared[position + 1].message.commands : []
                let sending = clock.now
                enveloping = sending
                try writeData(message.stream, then: next)
                envelopeWritten = !next.isEmpty
                outcomes[index] = try dataOutcome(since: sending)
            } catch {
                outcomes[index] = .failed(error)
                break
            }
            if !isUsable { break }
        }
        return outcomes
    }

    /// A message checked and encoded for the wire, with its MAIL, RCPT and DATA lines.
    private struct PreparedMessage {
        let mail: String
        let recipients: [String]
        /// MAIL, every RCPT and DATA, each with its CR LF, for one pipelined write.
        let commands: [UInt8]
        let stream: [UInt8]
    }

    private var pipelines: Bool { usePipelining && extensions.offers("PIPELINING") }

    /// Addresses already found valid on this session: a sender that writes the same return path
    /// on every message checks it once (it was an eighth of `mail send-test`'s instructions).
    private var validAddresses: Set<String> = []

    private func prepare(_ envelope: Envelope, data: [UInt8]) throws(SMTPError) -> PreparedMessage {
        guard !envelope.recipients.isEmpty else {
            throw SMTPError(.invalidAddress, phase: "RCPT", detail: "no recipient")
        }
        var needsUTF8 = false
        for address in (envelope.sender.isEmpty ? [] : [envelope.sender]) + envelope.recipients {
            if EmailAddress.requiresSMTPUTF8(address) { needsUTF8 = true }
            guard !validAddresses.contains(address) else { continue }
            do { try EmailAddress.validate(address) } catch {
                throw SMTPError(.invalidAddress, phase: address == envelope.sender ? "MAIL" : "RCPT", detail: error.description)
            }
            if validAddresses.count >= 256 { validAddresses.removeAll(keepingCapacity: true) }
            validAddresses.insert(address)
        }
        if needsUTF8 && !extensions.offers("SMTPUTF8") {
            throw SMTPError(.needsSMTPUTF8, phase: "MAIL", detail: "an address is not ASCII and the server does not offer SMTPUTF8")
        }
        let has8Bit = Self.hasEightBitOctet(data)
        if has8Bit && !extensions.offers("8BITMIME") {
            throw SMTPError(.needs8BitMIME, phase: "MAIL", detail: "the message has 8-bit octets and the server does not offer 8BITMIME")
        }
        if let limit = extensions.sizeLimit, data.count > limit {
            throw SMTPError(.messageTooLarge, phase: "MAIL", detail: "\(data.count) octets, the server takes at most \(limit)")
        }
        let stream: [UInt8]
        do { stream = try SMTPDataEncoder.encode(data) } catch {
            throw SMTPError(.invalidMessage, phase: "DATA", detail: "line \(error.lineNumber) is longer than 998 octets")
        }
        var mail = "MAIL FROM:<\(envelope.sender)>"
        if extensions.offers("SIZE") { mail += " SIZE=\(data.count)" }
        if has8Bit { mail += " BODY=8BITMIME" }
        if needsUTF8 { mail += " SMTPUTF8" }
        let recipients = envelope.recipients.map { "RCPT TO:<\($0)>" }
        var commands: [UInt8] = []
        for line in [mail] + recipients + ["DATA"] {
            commands.append(contentsOf: line.utf8)
            commands.append(contentsOf: [13, 10])
        }
        return PreparedMessage(mail: mail, recipients: recipients, commands: commands, stream: stream)
    }

    /// Whether any octet of `data` has its high bit set, eight octets at a time.
    static func hasEightBitOctet(_ data: [UInt8]) -> Bool {
        data.withUnsafeBytes { raw in
            let count = raw.count
            var bits: UInt64 = 0
            var index = 0
            while index + 8 <= count {
                bits |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < count {
                bits |= UInt64(raw[index])
                index += 1
            }
            return bits & 0x8080_8080_8080_8080 != 0
        }
    }

    /// Reads the replies to a pipelined MAIL, RCPT... and DATA. Returns the refusal when the
    /// server will not take the message (after ending the transaction), nil on 354.
    private func readEnvelopeReplies(_ message: PreparedMessage) throws(SMTPError) -> SMTPError? {
        let timeouts = configuration.timeouts
        let mailReply = try readReply(timeout: timeouts.command, phase: "MAIL")
        var refused: (reply: SMTPReply, phase: String)? = mailReply.isPositiveCompletion ? nil : (mailReply, "MAIL")
        for _ in message.recipients {
            let reply = try readReply(timeout: timeouts.command, phase: "RCPT")
            if refused == nil && !reply.isPositiveCompletion { refused = (reply, "RCPT") }
        }
        let dataReply = try readReply(timeout: timeouts.dataInitiation, phase: "DATA")
        if let refused {
            if dataReply.code == 354 {
                // The server would take a body for the recipients it accepted; the only way
                // to send nobody a partial delivery is to drop the session.
                abandon()
            } else {
                reset()
            }
            return SMTPError(.rejected, phase: refused.phase, reply: refused.reply)
        }
        guard dataReply.code == 354 else {
            reset()
            return SMTPError(.rejected, phase: "DATA", reply: dataReply)
        }
        return nil
    }

    /// MAIL, each RCPT and DATA one at a time, for a server without PIPELINING.
    private func sendEnvelopeInTurn(_ message: PreparedMessage) throws(SMTPError) {
        let timeouts = configuration.timeouts
        let mailReply = try command(message.mail, timeout: timeouts.command, phase: "MAIL")
        guard mailReply.isPositiveCompletion else {
            reset()
            throw SMTPError(.rejected, phase: "MAIL", reply: mailReply)
        }
        for recipient in message.recipients {
            let reply = try command(recipient, timeout: timeouts.command, phase: "RCPT")
            guard reply.isPositiveCompletion else {
                reset()
                throw SMTPError(.rejected, phase: "RCPT", reply: reply)
            }
        }
        let dataReply = try command("DATA", timeout: timeouts.dataInitiation, phase: "DATA")
        guard dataReply.code == 354 else {
            reset()
            throw SMTPError(.rejected, phase: "DATA", reply: dataReply)
        }
    }

    /// The dot-stuffed message in blocks of 64 KiB, `next` (the following message's pipelined
    /// commands) in the same write as the last block.
    private func writeData(_ stream: [UInt8], then next: [UInt8]) throws(SMTPError) {
        let timeout = configuration.timeouts.dataBlock
        let blockSize = 64 * 1024
        if stream.count <= blockSize {
            let bytes = next.isEmpty ? stream : stream + next
            try io { () throws(SMTPError) in try channel.write(bytes, timeout: limited(timeout), phase: "message data") }
            return
        }
        var offset = 0
        while offset < stream.count {
            let end = min(offset + blockSize, stream.count)
            var block = Array(stream[offset..<end])
            if end == stream.count { block += next }
            try io { () throws(SMTPError) in try channel.write(block, timeout: limited(timeout), phase: "message data") }
            offset = end
        }
    }

    /// The reply to the final dot; when it does not come, nobody knows whether the server kept the message.
    /// The reply to a message's final dot as a group's outcome; the data phase is timed only
    /// when the server took the message, as `send` times it.
    private func dataOutcome(since sending: ContinuousClock.Instant) throws(SMTPError) -> SMTPDeliveryOutcome {
        let final = try readFinalReply()
        guard final.isPositiveCompletion else {
            return .failed(SMTPError(.rejected, phase: "end of data", reply: final))
        }
        observed("data", since: sending)
        return .accepted(final)
    }

    private func readFinalReply() throws(SMTPError) -> SMTPReply {
        do {
            return try readReply(timeout: configuration.timeouts.dataTermination, phase: "end of data")
        } catch {
            throw SMTPError(error.kind, phase: error.phase, reply: error.reply,
                            detail: error.detail + " (the message may or may not have been delivered)")
        }
    }

    /// While a group is sent `within` a budget, every timeout ends by the budget's end.
    private var groupDeadline: Deadline?

    private func limited(_ timeout: Double) -> Double {
        guard let groupDeadline else { return timeout }
        return min(timeout, groupDeadline.remainingSeconds)
    }

    /// QUIT, politely; the socket is closed whatever the server does.
    public func close() {
        guard !closed else { return }
        if !broken {
            var quick = configuration.timeouts.command
            quick = min(quick, 5)
            _ = try? command("QUIT", timeout: quick, phase: "QUIT")
        }
        closed = true
        channel.close()
    }

    // MARK: - plumbing

    private func command(_ line: String, timeout: Double, phase: String) throws(SMTPError) -> SMTPReply {
        try io { () throws(SMTPError) in try channel.write(Array((line + "\r\n").utf8), timeout: limited(timeout), phase: phase) }
        return try readReply(timeout: timeout, phase: phase)
    }

    /// One whole reply. A 421 means the server is closing: the session is over.
    private func readReply(timeout: Double, phase: String) throws(SMTPError) -> SMTPReply {
        let deadline = Deadline(secondsFromNow: limited(timeout))
        var parser = SMTPReplyParser()
        while true {
            let line = try io { () throws(SMTPError) in try channel.readLine(deadline: deadline, phase: phase) }
            let reply: SMTPReply?
            do { reply = try parser.feed(line) } catch {
                abandon()
                throw SMTPError(.protocolViolation, phase: phase, detail: error.description)
            }
            guard let reply else { continue }
            if reply.code == 421 {
                abandon()
                throw SMTPError(.rejected, phase: phase, reply: reply, detail: "the server is closing the session")
            }
            return reply
        }
    }

    /// Ends a refused transaction so the next one starts clean; if even that fails, give up the session.
    private func reset() {
        guard let reply = try? command("RSET", timeout: configuration.timeouts.command, phase: "RSET"),
              reply.isPositiveCompletion else {
            abandon()
            return
        }
    }

    private func abandon() {
        broken = true
        channel.close()
    }

    /// Any I/O failure leaves the session in an unknown state.
    private func io<T>(_ body: () throws(SMTPError) -> T) throws(SMTPError) -> T {
        do { return try body() } catch {
            abandon()
            throw error
        }
    }
}

/// What became of one message of a group sent with `SMTPConnection.send(group:within:)`.
public enum SMTPDeliveryOutcome: Sendable {
    /// The server took it: its reply to the final dot.
    case accepted(SMTPReply)
    case failed(SMTPError)
    /// Never offered to the server: an earlier message's failure ended the session first.
    case notSent
}
