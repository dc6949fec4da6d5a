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
        let bytes = Array(text.utf8)
        let nonASCII = bytes.filter { $0 >= 128 }.count
        let longestLine = text.split(omittingEmptySubsequences: false, whereSeparator: BodyEncoding.isLineBreak).map(\.utf8.count).max() ?? 0
        if nonASCII == 0 && longestLine <= maxLineLength && !bytes.contains(where: { $0 < 32 && $0 != 10 && $0 != 13 && $0 != 9 }) {
            return .sevenBit
        }
        return nonASCII * 5 > bytes.count ? .base64 : .quotedPrintable
    }

    func encode(_ text: String) -> String {
        switch self {
        case .sevenBit: Self.crlf(text)
        case .quotedPrintable: Self.quotedPrintable(text)
        case .base64: Self.base64(Array(Self.crlf(text).utf8))
        }
    }

    static func crlf(_ text: String) -> String {
        text.split(omittingEmptySubsequences: false, whereSeparator: BodyEncoding.isLineBreak).joined(separator: "\r\n")
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
        var output: [String] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: BodyEncoding.isLineBreak) {
            let bytes = Array(line.utf8)
            var current: [UInt8] = []
            for (index, byte) in bytes.enumerated() {
                let isLast = index == bytes.count - 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                    || ((byte == 32 || byte == 9) && !isLast)
                let piece: [UInt8] = literal ? [byte] : [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                // Keep room for the soft-break "=" unless this piece ends the line.
                let room = isLast ? maxLineLength : maxLineLength - 1
                if current.count + piece.count > room {
                    output.append(String(decoding: current + [UInt8(ascii: "=")], as: UTF8.self))
                    current = []
                }
                current += piece
            }
            output.append(String(decoding: current, as: UTF8.self))
        }
        return output.joined(separator: "\r\n")
    }
}
