import Foundation

/// Decodes RFC 2047 encoded-words in header text (`=?ISO-8859-6?B?...?=`, `=?utf-8?q?caf=C3=A9?=`).
/// White space between two adjacent encoded-words is dropped (§6.2), and adjacent words of one
/// charset are joined before decoding, since many senders cut a UTF-8 sequence across two words.
public enum EncodedWordDecoder {
    public static func decode(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var output = ""
        var pendingCharset: String?
        var pendingBytes: [UInt8] = []
        var pendingSpace = ""
        func flush() {
            guard let charset = pendingCharset else { return }
            output += Charset.decodeGuessing(pendingBytes, declared: charset)
            pendingCharset = nil
            pendingBytes = []
        }
        var rest = Substring(text)
        while !rest.isEmpty {
            if rest.hasPrefix("=?"), let word = parseWord(rest) {
                if pendingCharset != nil && pendingCharset?.lowercased() != word.charset.lowercased() { flush() }
                if pendingCharset == nil { output += pendingSpace }
                pendingSpace = ""
                pendingCharset = word.charset
                pendingBytes += word.bytes
                rest = rest[word.end...]
                continue
            }
            let character = rest.removeFirst()
            if pendingCharset != nil && (character == " " || character == "\t") {
                pendingSpace.append(character)
                continue
            }
            flush()
            output += pendingSpace
            pendingSpace = ""
            output.append(character)
        }
        flush()
        return output + pendingSpace
    }

    private struct Word {
        let charset: String
        let bytes: [UInt8]
        let end: Substring.Index
    }

    /// `=?charset?B|Q?text?=` at the start of `text`; nil when it is not a well-formed word.
    private static func parseWord(_ text: Substring) -> Word? {
        let body = text.dropFirst(2)
        guard let q1 = body.firstIndex(of: "?") else { return nil }
        var charset = String(body[..<q1])
        if let star = charset.firstIndex(of: "*") { charset = String(charset[..<star]) }  // RFC 2231 language
        let afterCharset = body[body.index(after: q1)...]
        guard let q2 = afterCharset.firstIndex(of: "?"), afterCharset.distance(from: afterCharset.startIndex, to: q2) == 1 else { return nil }
        let encoding = afterCharset[afterCharset.startIndex].lowercased()
        let payloadStart = afterCharset.index(after: q2)
        guard let close = afterCharset[payloadStart...].range(of: "?=") else { return nil }
        let payload = afterCharset[payloadStart..<close.lowerBound]
        guard !charset.isEmpty, !payload.contains(" ") else { return nil }
        let bytes: [UInt8]
        switch encoding {
        case "b": bytes = MIMEParser.base64(Array(payload.utf8)[...])
        case "q": bytes = qDecode(payload)
        default: return nil
        }
        return Word(charset: charset, bytes: bytes, end: close.upperBound)
    }

    /// RFC 2047 §4.2: quoted-printable where `_` is a space.
    private static func qDecode(_ payload: Substring) -> [UInt8] {
        var bytes: [UInt8] = []
        var input = Array(payload.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "_") {
                bytes.append(32)
            } else if byte == UInt8(ascii: "="), input.count >= 2,
                      let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }
}
