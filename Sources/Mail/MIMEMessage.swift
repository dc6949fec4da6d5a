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

    /// `messageID`: the caller's own (the outbox derives it from the notification); nil for a
    /// random one.
    public init(from: MailboxAddress, to: [MailboxAddress], subject: String, textBody: String,
                htmlBody: String? = nil, language: String? = nil, messageIDDomain: String, messageID: String? = nil) {
        self.from = from
        self.to = to
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.language = language
        self.messageIDDomain = messageIDDomain
        self.messageID = messageID ?? "<\(Self.randomUUID())@\(messageIDDomain)>"
    }

    /// The SMTP envelope matching the From and To headers.
    public var envelope: Envelope {
        Envelope(sender: from.address, recipients: to.map(\.address))
    }

    /// The message's octets, built as bytes from the start (the notifier renders one per
    /// notification: concatenating `String`s and copying the result was most of its work).
    public func render(date: Date) throws(MIMEError) -> [UInt8] {
        guard !to.isEmpty else { throw .missingRecipient }
        var out: [UInt8] = []
        out.reserveCapacity(1_024 + 2 * (textBody.utf8.count + (htmlBody?.utf8.count ?? 0)))
        try HeaderFolder.fold(name: "Date", tokens: [RFC5322Date.format(date)], into: &out)
        try HeaderFolder.fold(name: "From", tokens: from.headerTokens(field: "From", firstMaxLength: 70), into: &out)
        var recipients: [String] = []
        for (index, mailbox) in to.enumerated() {
            var tokens = try mailbox.headerTokens(field: "To", firstMaxLength: recipients.isEmpty ? 72 : 75)
            if index < to.count - 1 { tokens[tokens.count - 1] += "," }
            recipients += tokens
        }
        try HeaderFolder.fold(name: "To", tokens: recipients, into: &out)
        if let replyTo {
            try HeaderFolder.fold(name: "Reply-To", tokens: replyTo.headerTokens(field: "Reply-To", firstMaxLength: 66), into: &out)
        }
        try HeaderValue.check(subject, field: "Subject")
        let subjectTokens = EncodedWord.needsEncoding(subject)
            ? EncodedWord.encode(subject, firstMaxLength: 78 - "Subject: ".count)
            : HeaderFolder.words(subject)
        // An empty (or white-space-only) subject is written as "Subject:" with nothing after it.
        try HeaderFolder.fold(name: "Subject", tokens: subjectTokens, into: &out)
        try Self.checkMessageID(messageID, field: "Message-ID")
        try HeaderFolder.fold(name: "Message-ID", tokens: [messageID], into: &out)
        if let inReplyTo {
            try Self.checkMessageID(inReplyTo, field: "In-Reply-To")
            try HeaderFolder.fold(name: "In-Reply-To", tokens: [inReplyTo], into: &out)
        }
        if !references.isEmpty {
            for reference in references { try Self.checkMessageID(reference, field: "References") }
            try HeaderFolder.fold(name: "References", tokens: references, into: &out)
        }
        if let listUnsubscribe {
            try HeaderValue.check(listUnsubscribe, field: "List-Unsubscribe")
            guard listUnsubscribe.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ">") }) else {
                throw .invalidHeaderValue(field: "List-Unsubscribe", reason: "a URL in printable ASCII is expected")
            }
            try HeaderFolder.fold(name: "List-Unsubscribe", tokens: ["<\(listUnsubscribe)>"], into: &out)
        }
        // RFC 3834: tells vacation responders and the like not to answer.
        out.append(contentsOf: "Auto-Submitted: auto-generated\r\n".utf8)
        if let language {
            try HeaderValue.check(language, field: "Content-Language")
            guard !language.isEmpty, language.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) }) else {
                throw .invalidHeaderValue(field: "Content-Language", reason: "a language tag such as ar or fr is expected")
            }
            out.append(contentsOf: "Content-Language: ".utf8)
            out.append(contentsOf: language.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "MIME-Version: 1.0\r\n".utf8)

        guard let htmlBody else {
            Self.appendPart(textBody, subtype: "plain", to: &out)
            return out
        }
        // Each part is encoded on its own first: the boundary must occur in neither.
        var text: [UInt8] = [], html: [UInt8] = []
        Self.appendPart(textBody, subtype: "plain", to: &text)
        Self.appendPart(htmlBody, subtype: "html", to: &html)
        var boundary = Array("=_chikaya_".utf8) + Self.randomHex()
        while Self.occurs(boundary, in: text) || Self.occurs(boundary, in: html) {
            boundary.append(UInt8(ascii: "_"))
        }
        out.append(contentsOf: "Content-Type: multipart/alternative;\r\n boundary=\"".utf8)
        out.append(contentsOf: boundary)
        out.append(contentsOf: "\"\r\n\r\n".utf8)
        for part in [text, html] {
            out.append(contentsOf: "--".utf8)
            out.append(contentsOf: boundary)
            out.append(contentsOf: "\r\n".utf8)
            out.append(contentsOf: part)
        }
        out.append(contentsOf: "--".utf8)
        out.append(contentsOf: boundary)
        out.append(contentsOf: "--\r\n".utf8)
        return out
    }

    /// True when `needle` occurs in `haystack` (a part's headers and body: the boundary is
    /// printable ASCII, so a match in the headers would be as wrong as one in the body).
    static func occurs(_ needle: [UInt8], in haystack: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count else { return false }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                var i = 0
                let last = h.count - n.count
                while i <= last {
                    if h[i] == first && memcmp(h.baseAddress! + i, n.baseAddress!, n.count) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }

    /// 32 lowercase hex digits, random (the system's generator: `UUID()` opened /dev/urandom
    /// for every call, twice a message).
    static func randomHex() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return hex(generator.next(), generator.next())
    }

    /// A random (version 4) UUID in lowercase, as `UUID().uuidString.lowercased()` writes it.
    static func randomUUID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high: UInt64 = generator.next() & ~0xF000 | 0x4000
        let low: UInt64 = generator.next() & ~(UInt64(0xC) << 60) | (UInt64(0x8) << 60)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, digit) in hex(high, low).enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            out.append(digit)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ words: UInt64...) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 * words.count)
        for word in words {
            for shift in stride(from: 60, through: 0, by: -4) {
                out.append(hexDigits[Int((word >> UInt64(shift)) & 15)])
            }
        }
        return out
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A text part: its headers, a blank line, the encoded body and a line break.
    private static func appendPart(_ content: String, subtype: String, to out: inout [UInt8]) {
        let encoding = BodyEncoding.choose(for: content)
        out.append(contentsOf: "Content-Type: text/".utf8)
        out.append(contentsOf: subtype.utf8)
        out.append(contentsOf: "; charset=utf-8\r\nContent-Transfer-Encoding: ".utf8)
        out.append(contentsOf: encoding.rawValue.utf8)
        out.append(contentsOf: "\r\n\r\n".utf8)
        encoding.encode(content, to: &out)
        out.append(contentsOf: "\r\n".utf8)
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
