/// Turns message octets into the DATA stream of RFC 5321 §4.5.2: CRLF line endings (a lone LF or
/// CR becomes CRLF), a dot doubled at the start of a line, and the `CRLF . CRLF` terminator.
enum SMTPDataEncoder {
    struct LineTooLong: Error { let lineNumber: Int }

    /// RFC 5321 §4.5.3.1.6: 1000 octets with CRLF, so 998 of content.
    static let maxLineLength = 998

    static func encode(_ message: [UInt8]) throws(LineTooLong) -> [UInt8] {
        // At most two octets out for one in (a lone CR or LF, a leading dot), plus the end.
        var tooLong: Int?
        let out = [UInt8](unsafeUninitializedCapacity: message.count * 2 + 5) { buffer, written in
            message.withUnsafeBufferPointer { input in
                var o = 0
                var lineLength = 0
                var lineNumber = 1
                var atLineStart = true
                var index = 0
                let count = input.count
                while index < count {
                    let byte = input[index]
                    index += 1
                    if byte == 13 || byte == 10 {
                        if byte == 13 && index < count && input[index] == 10 { index += 1 }
                        buffer[o] = 13
                        buffer[o + 1] = 10
                        o += 2
                        atLineStart = true
                        lineLength = 0
                        lineNumber += 1
                        continue
                    }
                    if atLineStart && byte == UInt8(ascii: ".") {
                        buffer[o] = byte
                        o += 1
                    }
                    atLineStart = false
                    lineLength += 1
                    if lineLength > maxLineLength {
                        tooLong = lineNumber
                        break
                    }
                    buffer[o] = byte
                    o += 1
                }
                if !atLineStart {
                    buffer[o] = 13
                    buffer[o + 1] = 10
                    o += 2
                }
                buffer[o] = UInt8(ascii: ".")
                buffer[o + 1] = 13
                buffer[o + 2] = 10
                written = o + 3
            }
        }
        if let tooLong { throw LineTooLong(lineNumber: tooLong) }
        return out
    }
}
