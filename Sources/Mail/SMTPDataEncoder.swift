import Foundation

/// Turns message octets into the DATA stream of RFC 5321 §4.5.2: CRLF line endings (a lone LF or
/// CR becomes CRLF), a dot doubled at the start of a line, and the `CRLF . CRLF` terminator.
enum SMTPDataEncoder {
    struct LineTooLong: Error { let lineNumber: Int }

    /// RFC 5321 §4.5.3.1.6: 1000 octets with CRLF, so 998 of content.
    static let maxLineLength = 998

    static func encode(_ message: [UInt8]) throws(LineTooLong) -> [UInt8] {
        // At most two octets out for one in (a lone CR or LF, a leading dot), plus the end. Each
        // line is found by a scan for CR or LF and copied whole (byte by byte, with a check per
        // byte, this was a tenth of `mail send-test`'s instructions).
        var tooLong: Int?
        let out = [UInt8](unsafeUninitializedCapacity: message.count * 2 + 5) { buffer, written in
            message.withUnsafeBufferPointer { input in
                var o = 0
                var lineNumber = 1
                var openLine = false
                var index = 0
                let count = input.count
                let base = UnsafeRawPointer(input.baseAddress!)
                while index < count {
                    // The line ends at its first CR or LF: memchr finds the LF, then a CR before
                    // it (scanning byte by byte for either was most of the encoder's work).
                    let lineFeed = memchr(base + index, 10, count - index).map { base.distance(to: UnsafeRawPointer($0)) } ?? count
                    let end = memchr(base + index, 13, lineFeed - index).map { base.distance(to: UnsafeRawPointer($0)) } ?? lineFeed
                    if end - index > maxLineLength {
                        tooLong = lineNumber
                        break
                    }
                    if end > index {
                        if input[index] == UInt8(ascii: ".") {
                            buffer[o] = UInt8(ascii: ".")
                            o += 1
                        }
                        UnsafeMutableRawPointer(buffer.baseAddress! + o)
                            .copyMemory(from: input.baseAddress! + index, byteCount: end - index)
                        o += end - index
                    }
                    guard end < count else {
                        openLine = end > index
                        index = end
                        break
                    }
                    buffer[o] = 13
                    buffer[o + 1] = 10
                    o += 2
                    lineNumber += 1
                    index = end + ((input[end] == 13 && end + 1 < count && input[end + 1] == 10) ? 2 : 1)
                }
                if openLine {
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
