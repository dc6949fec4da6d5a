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
        switch self {
        case .sevenBit: Self.crlf(text)
        case .quotedPrintable: Self.quotedPrintable(text)
        case .base64: Self.base64(Array(Self.crlf(text).utf8))
        }
    }

    /// Calls `body` with each line's UTF-8 bytes: CR, LF and CRLF end a line (see `isLineBreak`).
    static func forEachLine(of text: String, _ body: (ArraySlice<UInt8>) -> Void) {
        let bytes = Array(text.utf8)
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 10 || byte == 13 {
                body(bytes[start..<index])
                index += (byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10) ? 2 : 1
                start = index
            } else {
                index += 1
            }
        }
        body(bytes[start..<bytes.count])
    }

    static func crlf(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + 64)
        var first = true
        forEachLine(of: text) { line in
            if !first {
                output.append(13)
                output.append(10)
            }
            first = false
            output.append(contentsOf: line)
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let encoded = Array(Data(bytes).base64EncodedString().utf8)
        return stride(from: 0, to: encoded.count, by: maxLineLength)
            .map { String(decoding: encoded[$0..<min($0 + maxLineLength, encoded.count)], as: UTF8.self) }
            .joined(separator: "\r\n")
    }

    /// RFC 2045 §6.7: `=XX` for unsafe octets, soft line breaks (`=` at the end) to stay within
    /// 76 characters, trailing whitespace encoded so transports cannot strip it.
    static func quotedPrintable(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 2 + 64)
        var first = true
        forEachLine(of: text) { line in
            if !first {
                output.append(13)
                output.append(10)
            }
            first = false
            var column = 0
            var index = line.startIndex
            while index < line.endIndex {
                let byte = line[index]
                let isLast = index == line.endIndex - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 32 || byte == 9) && !isLast)
                let width = literal ? 1 : 3
                // Keep room for the soft-break "=" unless this piece ends the line.
                let room = isLast ? maxLineLength : maxLineLength - 1
                if column + width > room {
                    output.append(UInt8(ascii: "="))
                    output.append(13)
                    output.append(10)
                    column = 0
                }
                if literal {
                    output.append(byte)
                } else {
                    output.append(UInt8(ascii: "="))
                    output.append(hex[Int(byte >> 4)])
                    output.append(hex[Int(byte & 15)])
                }
                column += width
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
