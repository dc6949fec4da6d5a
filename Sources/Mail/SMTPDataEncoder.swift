/// Turns message octets into the DATA stream of RFC 5321 §4.5.2: CRLF line endings (a lone LF or
/// CR becomes CRLF), a dot doubled at the start of a line, and the `CRLF . CRLF` terminator.
enum SMTPDataEncoder {
    struct LineTooLong: Error { let lineNumber: Int }

    /// RFC 5321 §4.5.3.1.6: 1000 octets with CRLF, so 998 of content.
    static let maxLineLength = 998

    static func encode(_ message: [UInt8]) throws(LineTooLong) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 50 + 8)
        var lineLength = 0
        var lineNumber = 1
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            index += 1
            if byte == 13 || byte == 10 {
                if byte == 13 && index < message.count && message[index] == 10 { index += 1 }
                out.append(13)
                out.append(10)
                atLineStart = true
                lineLength = 0
                lineNumber += 1
                continue
            }
            if atLineStart && byte == UInt8(ascii: ".") { out.append(byte) }
            atLineStart = false
            lineLength += 1
            if lineLength > maxLineLength { throw LineTooLong(lineNumber: lineNumber) }
            out.append(byte)
        }
        if !atLineStart {
            out.append(13)
            out.append(10)
        }
        out.append(contentsOf: [UInt8(ascii: "."), 13, 10])
        return out
    }
}
