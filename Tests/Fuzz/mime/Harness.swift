// Fuzz target: the MIME builder. Encoded words round trip through a decoder written here, and no
// header line of a rendered message exceeds 998 octets. Built with Sources/Mail.
import Foundation

/// The text of B encoded-words (`=?UTF-8?B?...?=`), or nil when one is not such a word.
func decodeWords(_ words: [String]) -> [UInt8]? {
    var bytes: [UInt8] = []
    for word in words {
        guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="),
              let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) else { return nil }
        bytes += data
    }
    return bytes
}

/// A header's value unfolded, from a rendered message's head.
func headerValue(_ name: String, in head: String) -> String? {
    var value: String?
    for line in head.components(separatedBy: "\r\n") {
        if value != nil {
            if line.hasPrefix(" ") || line.hasPrefix("\t") { value! += line; continue }
            break
        }
        if line.lowercased().hasPrefix(name.lowercased() + ":") { value = String(line.dropFirst(name.count + 1)) }
    }
    return value
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIME(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)

    let words = EncodedWord.encode(text, firstMaxLength: 60)
    for word in words { precondition(word.count <= EncodedWord.maxLength, "an encoded word of \(word.count) characters") }
    precondition(decodeWords(words) == Array(text.utf8), "encoded words do not decode back to the text")

    // A whole message: the subject is the fuzzed text (without line breaks, which a subject
    // cannot hold), the body the same text.
    let subject = text.filter { $0 != "\r" && $0 != "\n" && $0 != "\r\n" }
    let message = MIMEMessage(from: MailboxAddress("no-reply@chikaya.test"), to: [MailboxAddress("citizen@example.org")],
                              subject: subject, textBody: text, messageIDDomain: "chikaya.test")
    guard let rendered = try? message.render(date: Date(timeIntervalSince1970: 1_800_000_000)) else { return 0 }
    let whole = String(decoding: rendered, as: UTF8.self)
    let head = whole.components(separatedBy: "\r\n\r\n")[0]
    for line in head.components(separatedBy: "\r\n") {
        precondition(line.utf8.count <= 998, "a header line of \(line.utf8.count) octets")
        // RFC 5322 §4.2: a line of nothing but white space is obsolete syntax, and a relay that
        // trims trailing white space turns it into the blank line that ends the header block.
        precondition(line.contains { $0 != " " && $0 != "\t" }, "a header line of nothing but white space")
    }
    guard let value = headerValue("Subject", in: head) else { preconditionFailure("no Subject header") }
    let tokens = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    // Encoded words carry the subject exactly, white space included. Plain text carries its
    // words: the builder folds every run of spaces and tabs to one space (an empty token list is
    // plain text with no words, not a sequence of encoded words).
    if !tokens.isEmpty, let decoded = decodeWords(tokens) {
        precondition(decoded == Array(subject.utf8), "the Subject does not decode back to the subject")
    } else {
        let words = subject.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        precondition(tokens == words, "a plain Subject does not hold the subject's words")
    }
    return 0
}
