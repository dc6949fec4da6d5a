import Foundation

/// A notification email: headers of RFC 5322, a text part and an optional HTML part as
/// multipart/alternative (RFC 2046 §5.1.4: plain first, so the richest part comes last), UTF-8
/// bodies in quoted-printable or base64, non-ASCII header text as RFC 2047 encoded-words.
/// The rendered message is 7-bit clean unless an address itself is not ASCII.
public struct MIMEMessage: Sendable {
    public var from: MailboxAddress
    public var to: [MailboxAddress]
    public var subject: String
    public var textBody: String
    public var htmlBody: String?
    /// BCP 47 tag for Content-Language, "ar" or "fr".
    public var language: String?
    public var replyTo: MailboxAddress?
    /// Message-IDs (with angle brackets) that thread this message under an earlier one.
    public var inReplyTo: String?
    public var references: [String] = []
    /// An https: or mailto: URL for List-Unsubscribe (RFC 2369), when one is configured.
    public var listUnsubscribe: String?
    public var messageIDDomain: String
    /// `<unique@messageIDDomain>`; fixed when the value is made, so a retry reuses it.
    public var messageID: String

    public init(from: MailboxAddress, to: [MailboxAddress], subject: String, textBody: String,
                htmlBody: String? = nil, language: String? = nil, messageIDDomain: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.language = language
        self.messageIDDomain = messageIDDomain
        messageID = "<\(UUID().uuidString.lowercased())@\(messageIDDomain)>"
    }

    /// The SMTP envelope matching the From and To headers.
    public var envelope: Envelope {
        Envelope(sender: from.address, recipients: to.map(\.address))
    }

    public func render(date: Date) throws(MIMEError) -> [UInt8] {
        guard !to.isEmpty else { throw .missingRecipient }
        var head = ""
        head += try HeaderFolder.fold(name: "Date", tokens: [RFC5322Date.format(date)])
        head += try HeaderFolder.fold(name: "From", tokens: from.headerTokens(field: "From", firstMaxLength: 70))
        var recipients: [String] = []
        for (index, mailbox) in to.enumerated() {
            var tokens = try mailbox.headerTokens(field: "To", firstMaxLength: recipients.isEmpty ? 72 : 75)
            if index < to.count - 1 { tokens[tokens.count - 1] += "," }
            recipients += tokens
        }
        head += try HeaderFolder.fold(name: "To", tokens: recipients)
        if let replyTo {
            head += try HeaderFolder.fold(name: "Reply-To", tokens: replyTo.headerTokens(field: "Reply-To", firstMaxLength: 66))
        }
        try HeaderValue.check(subject, field: "Subject")
        let subjectTokens = EncodedWord.needsEncoding(subject)
            ? EncodedWord.encode(subject, firstMaxLength: 78 - "Subject: ".count)
            : HeaderFolder.words(subject)
        // An empty (or white-space-only) subject is written as "Subject:" with nothing after it.
        head += try HeaderFolder.fold(name: "Subject", tokens: subjectTokens)
        try Self.checkMessageID(messageID, field: "Message-ID")
        head += try HeaderFolder.fold(name: "Message-ID", tokens: [messageID])
        if let inReplyTo {
            try Self.checkMessageID(inReplyTo, field: "In-Reply-To")
            head += try HeaderFolder.fold(name: "In-Reply-To", tokens: [inReplyTo])
        }
        if !references.isEmpty {
            for reference in references { try Self.checkMessageID(reference, field: "References") }
            head += try HeaderFolder.fold(name: "References", tokens: references)
        }
        if let listUnsubscribe {
            try HeaderValue.check(listUnsubscribe, field: "List-Unsubscribe")
            guard listUnsubscribe.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ">") }) else {
                throw .invalidHeaderValue(field: "List-Unsubscribe", reason: "a URL in printable ASCII is expected")
            }
            head += try HeaderFolder.fold(name: "List-Unsubscribe", tokens: ["<\(listUnsubscribe)>"])
        }
        // RFC 3834: tells vacation responders and the like not to answer.
        head += "Auto-Submitted: auto-generated\r\n"
        if let language {
            try HeaderValue.check(language, field: "Content-Language")
            guard !language.isEmpty, language.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) }) else {
                throw .invalidHeaderValue(field: "Content-Language", reason: "a language tag such as ar or fr is expected")
            }
            head += "Content-Language: \(language)\r\n"
        }
        head += "MIME-Version: 1.0\r\n"

        let text = Self.part(textBody, subtype: "plain")
        guard let htmlBody else {
            return Array((head + text.headers + "\r\n" + text.body + "\r\n").utf8)
        }
        let html = Self.part(htmlBody, subtype: "html")
        var boundary = "=_chikaya_" + Self.randomHex()
        while Self.occurs(boundary, in: text.body) || Self.occurs(boundary, in: html.body) {
            boundary += "_"
        }
        var message = head
        message += "Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"\r\n\r\n"
        message += "--\(boundary)\r\n" + text.headers + "\r\n" + text.body + "\r\n"
        message += "--\(boundary)\r\n" + html.headers + "\r\n" + html.body + "\r\n"
        message += "--\(boundary)--\r\n"
        return Array(message.utf8)
    }

    /// True when `needle` occurs in `haystack`, compared as UTF-8 bytes (Foundation's
    /// `contains` went through CFString and was a tenth of rendering a message).
    static func occurs(_ needle: String, in haystack: String) -> Bool {
        let n = Array(needle.utf8), h = Array(haystack.utf8)
        guard let first = n.first else { return true }
        guard h.count >= n.count else { return false }
        var i = 0
        while i <= h.count - n.count {
            if h[i] == first && h[i..<(i + n.count)].elementsEqual(n) { return true }
            i += 1
        }
        return false
    }

    /// 32 lowercase hex digits of a random UUID, as `uuidString` without its dashes (which went
    /// through CFString's search and replace for every message).
    static func randomHex() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        withUnsafeBytes(of: UUID().uuid) { raw in
            for byte in raw {
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func part(_ content: String, subtype: String) -> (headers: String, body: String) {
        let encoding = BodyEncoding.choose(for: content)
        let headers = "Content-Type: text/\(subtype); charset=utf-8\r\nContent-Transfer-Encoding: \(encoding.rawValue)\r\n"
        return (headers, encoding.encode(content))
    }

    private static func checkMessageID(_ id: String, field: String) throws(MIMEError) {
        try HeaderValue.check(id, field: field)
        // Over UTF-8 bytes: printable ASCII only, so a byte is a character (Character by
        // Character with Foundation's contains, this was 28,000 instructions an identifier).
        let bytes = id.utf8
        guard bytes.count > 4, bytes.first == UInt8(ascii: "<"), bytes.last == UInt8(ascii: ">"),
              bytes.allSatisfy({ $0 > 32 && $0 < 127 }), bytes.contains(UInt8(ascii: "@")),
              !bytes.dropFirst().dropLast().contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") })
        else { throw .invalidHeaderValue(field: field, reason: "expected <id@domain> in printable ASCII") }
    }
}
