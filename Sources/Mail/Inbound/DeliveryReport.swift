import Foundation

/// One recipient a bounce reports on.
public struct DeliveryFailure: Sendable, Equatable {
    /// The address the reporting server tried (Final-Recipient, or what the text names).
    public var recipient: String
    /// The address as we first gave it (Original-Recipient), when the report says.
    public var originalRecipient: String?
    /// Enhanced status code (RFC 3463), `5.1.1`; derived from the SMTP code when only that is given.
    public var status: String?
    public var action: String?
    public var diagnostic: String?
    /// True for a failure that will not go away by retrying (status class 5).
    public var permanent: Bool

    public init(recipient: String, originalRecipient: String? = nil, status: String? = nil, action: String? = nil,
                diagnostic: String? = nil, permanent: Bool) {
        self.recipient = recipient
        self.originalRecipient = originalRecipient
        self.status = status
        self.action = action
        self.diagnostic = diagnostic
        self.permanent = permanent
    }
}

/// What a bounce says: who failed and how, read from an RFC 3464 report or from one of the
/// formats MTAs wrote before (or beside) it.
public struct DeliveryReport: Sendable {
    /// `rfc3464`, `qmail`, `exim`, `sendmail`, `exchange`, `gmail`, `yahoo` or `generic`.
    public let format: String
    public let failures: [DeliveryFailure]
    /// Message-ID of the message that bounced, when the report returns its headers.
    public let originalMessageID: String?

    public init(format: String, failures: [DeliveryFailure], originalMessageID: String?) {
        self.format = format
        self.failures = failures
        self.originalMessageID = originalMessageID
    }
}

/// Reads bounces. Standard reports first (multipart/report with message/delivery-status, one
/// block per recipient, RFC 3464 §2.2-2.3), then the text of the non-standard ones.
public enum DeliveryReportParser {
    public static func parse(_ message: MIMEPart) -> DeliveryReport? {
        let original = originalMessageID(message)
        if let status = message.allParts.first(where: {
            $0.contentType.type == "message" && ["delivery-status", "global-delivery-status"].contains($0.contentType.subtype)
        }) {
            let (failures, recipients) = deliveryStatus(status.text)
            // A report that names recipients and none failed (delivered, relayed, expanded: a
            // success notice) is no bounce, whatever its text looks like.
            if recipients > 0 { return DeliveryReport(format: "rfc3464", failures: failures, originalMessageID: original) }
        }
        guard let text = message.bodyText else { return nil }
        let lines = TextScanning.lines(text)
        let folded = TextScanning.folded(text)
        for reader in readers {
            if let (format, failures) = reader(lines, folded, message.headers), !failures.isEmpty {
                return DeliveryReport(format: format, failures: failures, originalMessageID: original)
            }
        }
        if looksLikeBounce(message.headers) {
            let failures = generic(lines: lines, text: text, headers: message.headers)
            return DeliveryReport(format: "generic", failures: failures, originalMessageID: original)
        }
        return nil
    }

    /// From a mailer daemon, or with a subject every MTA uses for failures.
    public static func looksLikeBounce(_ headers: MIMEHeaders) -> Bool {
        let from = TextScanning.folded(headers.decoded("From") ?? "")
        if from.contains("mailer-daemon") || from.contains("postmaster@") || from.contains("mail delivery") { return true }
        if headers["X-Failed-Recipients"] != nil { return true }
        let subject = TextScanning.folded(headers.decoded("Subject") ?? "")
        return ["undeliver", "delivery status notification", "mail delivery failed", "failure notice", "returned mail",
                "delivery failure", "non remis", "echec de la remise", "delivery has failed", "undelivered mail"]
            .contains { subject.contains($0) }
    }

    // MARK: RFC 3464

    /// The per-recipient blocks of a message/delivery-status body (the first block is
    /// per-message), and how many recipients it names. Only `failed` and `delayed` recipients
    /// are failures. Some gateways leave out the empty line between blocks: a second
    /// Final-Recipient (or Original-Recipient) in one block starts a new block all the same.
    static func deliveryStatus(_ text: String) -> (failures: [DeliveryFailure], recipients: Int) {
        var blocks: [[(String, String)]] = [[]]
        for line in TextScanning.lines(text) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                if !(blocks.last?.isEmpty ?? true) { blocks.append([]) }
                continue
            }
            if let first = line.first, first == " " || first == "\t", !blocks[blocks.count - 1].isEmpty {
                blocks[blocks.count - 1][blocks[blocks.count - 1].count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            if name == "final-recipient" || name == "original-recipient", blocks[blocks.count - 1].contains(where: { $0.0 == name }) {
                blocks.append([])
            }
            blocks[blocks.count - 1].append((name, line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var failures: [DeliveryFailure] = []
        var recipients = 0
        for block in blocks {
            func field(_ name: String) -> String? { block.first { $0.0 == name }?.1 }
            guard let final = field("final-recipient") ?? field("original-recipient") else { continue }
            recipients += 1
            let action = field("action")?.lowercased()
            if let action, !["failed", "delayed"].contains(action) { continue }
            let diagnostic = field("diagnostic-code").map(stripType)
            var status = field("status").flatMap(TextScanning.enhancedStatus)
            let detailed = diagnostic.flatMap(TextScanning.enhancedStatus)
            // `5.0.0` says only "permanent"; the server's own reply often says which (5.1.1).
            if let given = status, given.hasSuffix(".0.0"), let detailed, detailed.first == given.first { status = detailed }
            if status == nil { status = detailed }
            let permanent: Bool
            if let status { permanent = status.hasPrefix("5") } else { permanent = action != "delayed" }
            failures.append(DeliveryFailure(recipient: address(stripType(final)),
                                            originalRecipient: field("original-recipient").map { address(stripType($0)) },
                                            status: status ?? (permanent ? "5.0.0" : "4.0.0"), action: action,
                                            diagnostic: diagnostic, permanent: permanent))
        }
        return (failures, recipients)
    }

    /// `rfc822; someone@example.ma` → `someone@example.ma`; `smtp; 550 ...` → `550 ...`.
    private static func stripType(_ value: String) -> String {
        guard let semicolon = value.firstIndex(of: ";") else { return value }
        let type = value[..<semicolon]
        guard !type.contains(" "), type.count < 20 else { return value }
        return value[value.index(after: semicolon)...].trimmingCharacters(in: .whitespaces)
    }

    private static func address(_ value: String) -> String {
        TextScanning.firstAddress(in: value) ?? value.trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
    }

    private static func originalMessageID(_ message: MIMEPart) -> String? {
        for part in message.allParts {
            if part.contentType.mimeType == "message/rfc822" || part.contentType.mimeType == "message/global",
               let id = part.message?.headers["Message-ID"] { return id }
            if part.contentType.mimeType == "text/rfc822-headers" || part.contentType.mimeType == "message/rfc822-headers" {
                if let inner = try? MIMEParser().parse(part.body + [10, 10]), let id = inner.headers["Message-ID"] { return id }
            }
        }
        // Non-standard bounces quote the returned headers inline.
        guard let text = message.bodyText else { return nil }
        for line in TextScanning.lines(text) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.lowercased().hasPrefix("message-id:") {
                return trimmed.dropFirst("message-id:".count).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    // MARK: Non-standard reports

    typealias Reader = @Sendable ([String], String, MIMEHeaders) -> (String, [DeliveryFailure])?

    private static let readers: [Reader] = [qmail, exim, sendmail, exchange, gmail]

    private static func failure(_ recipient: String, block: [String], fallbackPermanent: Bool) -> DeliveryFailure {
        let diagnostic = block.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        var status = TextScanning.enhancedStatus(in: diagnostic)
        let code = TextScanning.smtpCode(in: diagnostic)
        if status == nil, let code { status = "\(code / 100).0.0" }
        let permanent = status.map { $0.hasPrefix("5") } ?? fallbackPermanent
        return DeliveryFailure(recipient: recipient.lowercased(), status: status ?? (permanent ? "5.0.0" : "4.0.0"),
                               action: permanent ? "failed" : "delayed",
                               diagnostic: diagnostic.isEmpty ? nil : String(diagnostic.prefix(500)), permanent: permanent)
    }

    /// qmail-send and the Yahoo servers built on it: `<addr>:` then the reason, up to an empty line.
    static func qmail(_ lines: [String], _ folded: String, _ headers: MIMEHeaders) -> (String, [DeliveryFailure])? {
        let isQmail = folded.contains("qmail-send program") || folded.contains("this is a permanent error; i've given up")
        let isYahoo = folded.contains("unable to deliver your message to the following address")
            || folded.contains("unable to deliver message to the following address")
        guard isQmail || isYahoo else { return nil }
        var failures: [DeliveryFailure] = []
        var index = 0
        while index < lines.count {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            // QSBMF: `<address>:` opens a recipient paragraph; the reason follows on the same line
            // (Yahoo) or on the next ones (qmail-send).
            if line.hasPrefix("<"), let close = line.range(of: ">:"), let recipient = TextScanning.firstAddress(in: String(line[..<close.upperBound])) {
                var block: [String] = []
                let rest = line[close.upperBound...].trimmingCharacters(in: .whitespaces)
                if !rest.isEmpty { block.append(rest) }
                index += 1
                while index < lines.count, !lines[index].trimmingCharacters(in: .whitespaces).isEmpty,
                      !lines[index].hasPrefix("---") {
                    block.append(lines[index])
                    index += 1
                }
                // qmail reports only what it gave up on: permanent unless the server said 4xx.
                failures.append(failure(recipient, block: block, fallbackPermanent: true))
                continue
            }
            if line.hasPrefix("--- Below this line") || line.hasPrefix("--- Enclosed") { break }
            index += 1
        }
        return (isQmail ? "qmail" : "yahoo", failures)
    }

    /// Exim: "The following address(es) failed:" then each address indented two spaces, its
    /// reasons indented further; a delay warning lists "have yet to be delivered".
    static func exim(_ lines: [String], _ folded: String, _ headers: MIMEHeaders) -> (String, [DeliveryFailure])? {
        let failedMarker = lines.firstIndex { TextScanning.folded($0).contains("following address(es) failed") }
        let delayMarker = lines.firstIndex {
            let line = TextScanning.folded($0)
            return line.contains("address(es) have yet to be delivered") || line.contains("have still not been delivered")
                || line.contains("has not yet been delivered is:") || line.contains("have not yet been delivered are:")
        }
        guard let start = failedMarker ?? delayMarker else { return nil }
        let permanent = failedMarker != nil
        var failures: [DeliveryFailure] = []
        var current: (String, [String])?
        // An alias Exim expanded: "(generated from alias@domain)" under the address that failed.
        func finish(_ entry: (String, [String])) {
            let generated = entry.1.first { $0.lowercased().hasPrefix("(generated from") }
            var found = failure(entry.0, block: entry.1.filter { $0 != generated }, fallbackPermanent: permanent)
            found.originalRecipient = generated.flatMap(TextScanning.firstAddress(in:))
            failures.append(found)
        }
        for line in lines[(start + 1)...] {
            if line.hasPrefix("------") || TextScanning.folded(line).hasPrefix("this message has been") { break }
            let indent = line.prefix { $0 == " " || $0 == "\t" }.count
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if indent <= 2, let address = TextScanning.firstAddress(in: trimmed), trimmed.hasPrefix(address) || trimmed.hasPrefix("<") {
                if let current { finish(current) }
                current = (address, [])
            } else if indent > 2, current != nil {
                current?.1.append(trimmed)
            } else if indent == 0, current != nil {
                break
            }
        }
        if let current { finish(current) }
        if failures.isEmpty, let listed = headers["X-Failed-Recipients"] {
            failures = TextScanning.addresses(in: listed).map { failure($0, block: [], fallbackPermanent: permanent) }
        }
        return ("exim", failures)
    }

    /// Sendmail before DSNs: "----- The following addresses had permanent fatal errors -----"
    /// then `<addr>` lines and "(reason: ...)"; the transcript below names each address again.
    static func sendmail(_ lines: [String], _ folded: String, _ headers: MIMEHeaders) -> (String, [DeliveryFailure])? {
        guard let start = lines.firstIndex(where: { TextScanning.folded($0).contains("the following addresses had") }) else {
            return sendmailWarning(lines, folded)
        }
        let permanent = !TextScanning.folded(lines[start]).contains("transient")
        var recipients: [(String, [String])] = []
        var index = start + 1
        while index < lines.count {
            let trimmed = lines[index].trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("-----") { break }
            if trimmed.hasPrefix("(") && !recipients.isEmpty {
                recipients[recipients.count - 1].1.append(trimmed)
            } else if let address = TextScanning.firstAddress(in: trimmed) {
                recipients.append((address, []))
            }
            index += 1
        }
        // Transcript lines such as "... while talking to mx: >>> RCPT To:<a@b> <<< 550 5.1.1 <a@b>... User unknown".
        for line in lines[index...] where TextScanning.smtpCode(in: line) != nil {
            for (offset, recipient) in recipients.enumerated() where line.lowercased().contains(recipient.0.lowercased()) {
                recipients[offset].1.append(line)
            }
        }
        if recipients.isEmpty, let listed = headers["X-Failed-Recipients"] {
            recipients = TextScanning.addresses(in: listed).map { ($0, []) }
        }
        return ("sendmail", recipients.map { failure($0.0, block: $0.1, fallbackPermanent: permanent) })
    }

    /// Sendmail's warning ("could not send message for past 4 hours"): no address list, only the
    /// transcript's `<address>... Deferred: reason` lines. Still being retried: transient.
    static func sendmailWarning(_ lines: [String], _ folded: String) -> (String, [DeliveryFailure])? {
        guard folded.contains("this is a warning message only") || folded.contains("could not send message for past") else { return nil }
        var failures: [DeliveryFailure] = []
        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let marker = trimmed.range(of: "... Deferred"), let address = TextScanning.firstAddress(in: String(trimmed[..<marker.lowerBound])),
                  !failures.contains(where: { $0.recipient == address.lowercased() }) else { continue }
            var found = failure(address, block: [String(trimmed[marker.upperBound...]).trimmingCharacters(in: CharacterSet(charactersIn: ": "))],
                                fallbackPermanent: false)
            // RFC 3463: no answer from the host (timed out, refused) is 4.4.1.
            let reason = TextScanning.folded(trimmed)
            if found.status == "4.0.0", reason.contains("timed out") || reason.contains("connection refused") { found.status = "4.4.1" }
            failures.append(found)
        }
        return ("sendmail", failures)
    }

    /// Exchange and Office 365: "Delivery has failed to these recipients or groups:" (or the older
    /// "could not be reached:"), each address then its explanation; the administrators' part
    /// repeats the address with "Remote Server returned '550 5.1.10 ...'" or "#5.1.1 smtp;550 ...".
    static func exchange(_ lines: [String], _ folded: String, _ headers: MIMEHeaders) -> (String, [DeliveryFailure])? {
        let markers = ["delivery has failed to these recipients", "following recipient(s) could not be reached",
                       "your message couldn't be delivered", "delivery is delayed to these recipients",
                       "la remise a echoue pour ces destinataires", "votre message n'a pas pu etre remis"]
        guard let start = lines.firstIndex(where: { line in
            let text = TextScanning.folded(line)
            return markers.contains { text.contains($0) }
        }) else { return nil }
        let permanent = !TextScanning.folded(lines[start]).contains("delayed")
        var order: [String] = []
        var blocks: [String: [String]] = [:]
        var current: String?
        for line in lines[start...] {
            if line.hasPrefix("Original message headers") || line.hasPrefix("Received:") { break }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let address = TextScanning.firstAddress(in: trimmed), !trimmed.lowercased().hasPrefix("generating server"),
               trimmed.count < address.count * 3 + 40, TextScanning.smtpCode(in: trimmed) == nil {
                current = address
                if blocks[address] == nil { order.append(address); blocks[address] = [] }
                continue
            }
            if let current, !trimmed.isEmpty { blocks[current, default: []].append(trimmed) }
        }
        if order.isEmpty, let listed = headers["X-Failed-Recipients"] {
            order = TextScanning.addresses(in: listed)
        }
        let failures = order.map { address -> DeliveryFailure in
            // Prefer the server's own words ("Remote Server returned ..."), else the explanation.
            let block = blocks[address] ?? []
            let remote = block.filter { TextScanning.enhancedStatus(in: $0) != nil || TextScanning.smtpCode(in: $0) != nil }
            return failure(address, block: remote.isEmpty ? block : remote, fallbackPermanent: permanent)
        }
        return ("exchange", failures)
    }

    /// Gmail: "Delivery to the following recipient failed permanently:" (or "has been delayed"),
    /// and the newer "Your message wasn't delivered to ADDR" / "There was a temporary problem
    /// delivering your message to ADDR", with "The response from the remote server was:" below.
    static func gmail(_ lines: [String], _ folded: String, _ headers: MIMEHeaders) -> (String, [DeliveryFailure])? {
        let markers = ["delivery to the following recipient", "wasn't delivered to", "wasn\u{2019}t delivered to", "was not delivered to",
                       "temporary problem delivering your message to", "message not delivered", "address not found"]
        guard markers.contains(where: { folded.contains($0) }) else { return nil }
        let permanent = !(folded.contains("has been delayed") || folded.contains("temporary problem")
                          || folded.contains("technical details of temporary failure") || folded.contains("will retry"))
        var recipients: [String] = []
        for (index, line) in lines.enumerated() {
            let text = TextScanning.folded(line)
            if text.contains("delivery to the following recipient") {
                if let next = lines[(index + 1)...].first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }),
                   let address = TextScanning.firstAddress(in: next) { recipients.append(address) }
            } else if text.contains("delivered to") || text.contains("delivering your message to") {
                if let address = TextScanning.firstAddress(in: line) { recipients.append(address) }
            }
        }
        if let listed = headers["X-Failed-Recipients"] {
            for address in TextScanning.addresses(in: listed) where !recipients.contains(address) { recipients.append(address) }
        }
        var details: [String] = []
        if let start = lines.firstIndex(where: {
            let text = TextScanning.folded($0)
            return text.contains("response from the remote server was") || text.contains("technical details of")
        }) {
            for line in lines[(start + 1)...] {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty && !details.isEmpty { break }
                if trimmed.hasPrefix("-----") { break }
                if !trimmed.isEmpty { details.append(trimmed) }
            }
        }
        var seen = Set<String>()
        let unique = recipients.filter { seen.insert($0).inserted }
        return ("gmail", unique.map { failure($0, block: details, fallbackPermanent: permanent) })
    }

    /// A bounce in no format we know: the addresses of X-Failed-Recipients, else the first
    /// address on a line with an SMTP code; the status from anywhere in the text.
    static func generic(lines: [String], text: String, headers: MIMEHeaders) -> [DeliveryFailure] {
        var recipients = headers["X-Failed-Recipients"].map(TextScanning.addresses) ?? []
        if recipients.isEmpty,
           let line = lines.first(where: { TextScanning.smtpCode(in: $0) != nil && TextScanning.firstAddress(in: $0) != nil }),
           let address = TextScanning.firstAddress(in: line) {
            recipients = [address]
        }
        let relevant = lines.filter { TextScanning.enhancedStatus(in: $0) != nil || TextScanning.smtpCode(in: $0) != nil }
        return recipients.map { failure($0, block: Array(relevant.prefix(3)), fallbackPermanent: true) }
    }
}
