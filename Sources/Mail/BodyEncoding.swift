import Foundation

/// Content-Transfer-Encodings of RFC 2045 for UTF-8 text parts, lines at most 76 characters.
enum BodyEncoding: String {
    case sevenBit = "7bit"
    case quotedPrintable = "quoted-printable"
    case base64

    static let maxLineLength = 76

    /// Only CR, LF and CRLF end a line of a message body. Character.isNewline also takes U+2028,
    /// U+2029, U+0085, VT and FF, which would turn characters of a citizen's text into line breaks.
    static func isLineBreak(_ character: Character) -> Bool {
        character == "\n" || character == "\r" || character == "\r\n"
    }

    /// Quoted-printable keeps mostly-Latin text (French) readable; base64 is smaller for Arabic,
    /// where every letter would cost six characters in quoted-printable.
    static func choose(for text: String) -> BodyEncoding {
        // One pass over the UTF-8 bytes (the body of every notification goes through here).
        var nonASCII = 0
        var control = false
        var longestLine = 0
        var line = 0
        var copy = text
        copy.withUTF8 { bytes in
            for byte in bytes {
                if byte == 10 || byte == 13 {
                    longestLine = max(longestLine, line)
                    line = 0
                    continue
                }
                line += 1
                if byte >= 128 { nonASCII += 1 } else if byte < 32 && byte != 9 { control = true }
            }
        }
        longestLine = max(longestLine, line)
        if nonASCII == 0 && longestLine <= maxLineLength && !control {
            return .sevenBit
        }
        return nonASCII * 5 > text.utf8.count ? .base64 : .quotedPrintable
    }

    func encode(_ text: String) -> String {
        var out: [UInt8] = []
        encode(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the encoded body to `out` (the message is built as bytes, not as a `String`).
    func encode(_ text: String, to out: inout [UInt8]) {
        switch self {
        case .sevenBit: Self.crlf(text, to: &out)
        case .quotedPrintable: Self.quotedPrintable(text, to: &out)
        case .base64:
            var lines: [UInt8] = []
            Self.crlf(text, to: &lines)
            Base64Writer.append(lines, lineLength: Self.maxLineLength, to: &out)
        }
    }

    /// Calls `body` with each line's UTF-8 bytes: CR, LF and CRLF end a line (see `isLineBreak`).
    static func forEachLine(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var copy = text
        copy.withUTF8 { bytes in
            var start = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 10 || byte == 13 {
                    body(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                    index += (byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10) ? 2 : 1
                    start = index
                } else {
                    index += 1
                }
            }
            body(UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
        }
    }

    static func crlf(_ text: String) -> String {
        var out: [UInt8] = []
        crlf(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `text` with every line break written as CR LF.
    static func crlf(_ text: String, to output: inout [UInt8]) {
        output.reserveCapacity(output.count + text.utf8.count + 64)
        var first = true
        forEachLine(of: text) { line in
            if !first {
                output.append(13)
                output.append(10)
            }
            first = false
            output.append(contentsOf: line)
        }
    }

    static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        Base64Writer.append(bytes, lineLength: maxLineLength, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 2045 §6.7: `=XX` for unsafe octets, soft line breaks (`=` at the end) to stay within
    /// 76 characters, trailing whitespace encoded so transports cannot strip it. Written straight
    /// into one buffer (a closure per line appending to an array was a fifth of `mail send-test`).
    static func quotedPrintable(_ text: String) -> String {
        var out: [UInt8] = []
        quotedPrintable(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the quoted-printable encoding of `text` to `out`.
    static func quotedPrintable(_ text: String, to out: inout [UInt8]) {
        var copy = text
        copy.withUTF8 { input in
            // At most 3 octets for one, a soft break (3) per 73 octets out, 2 for a lone CR or LF.
            // Encoded into a scratch buffer left uninitialised, then copied: growing `out` by a
            // run of zeros first cost more than the encoding.
            let encoded = [UInt8](unsafeUninitializedCapacity: input.count * 4 + 64) { buffer, written in
                written = quotedPrintable(input, into: buffer)
            }
            out.append(contentsOf: encoded)
        }
    }

    /// Octets written as they are when not last on their line: printable ASCII but "=", and
    /// the blanks (a last blank is encoded, so transports cannot strip it).
    private static let plainOctets: [Bool] = (0...255).map { ($0 >= 33 && $0 <= 126 && $0 != 61) || $0 == 32 || $0 == 9 }

    /// The encoder itself, into a buffer of at least `4 * input.count + 64` octets; returns the
    /// octets written.
    private static func quotedPrintable(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let n = input.count
        var o = 0
        let plain = plainOctets
        func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 48 + value : 55 + value }
        func encodeLine(_ start: Int, _ end: Int) {
            var column = 0
            var index = start
            while index < end {
                let byte = input[index]
                // The usual case first: a printable octet (or a blank) that is not the line's
                // last, with room left before the soft-break column.
                if index < end - 1 && column < maxLineLength - 1 && plain[Int(byte)] {
                    out[o] = byte
                    o += 1
                    column += 1
                    index += 1
                    continue
                }
                let isLast = index == end - 1
                let literal = plain[Int(byte)] && !(isLast && (byte == 32 || byte == 9))
                let width = literal ? 1 : 3
                // Keep room for the soft-break "=" unless this piece ends the line.
                let room = isLast ? maxLineLength : maxLineLength - 1
                if column + width > room {
                    out[o] = UInt8(ascii: "=")
                    out[o + 1] = 13
                    out[o + 2] = 10
                    o += 3
                    column = 0
                }
                if literal {
                    out[o] = byte
                    o += 1
                } else {
                    out[o] = UInt8(ascii: "=")
                    out[o + 1] = hexDigit(byte >> 4)
                    out[o + 2] = hexDigit(byte & 15)
                    o += 3
                }
                column += width
                index += 1
            }
        }
        // Lines end at CR, LF or CRLF (see `isLineBreak`); the breaks become CRLF.
        var start = 0
        var index = 0
        while index < n {
            let byte = input[index]
            if byte == 10 || byte == 13 {
                encodeLine(start, index)
                out[o] = 13
                out[o + 1] = 10
                o += 2
                index += (byte == 13 && index + 1 < n && input[index + 1] == 10) ? 2 : 1
                start = index
            } else {
                index += 1
            }
        }
        encodeLine(start, n)
        return o
    }
}
