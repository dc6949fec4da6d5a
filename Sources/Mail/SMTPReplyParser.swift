/// Assembles reply lines into replies. A multi-line reply continues while the fourth character is
/// `-`; the last line has a space or nothing after the code (a bare `250` or `250 ` is legal).
struct SMTPReplyParser {
    /// The most lines and bytes one reply may have: a real server's longest (EHLO) has a few
    /// dozen lines; a hostile relay streaming continuation lines must not grow our memory.
    static let maxLines = 100
    static let maxBytes = 64 * 1024

    private var code: Int?
    private var lines: [String] = []
    private var bytes = 0

    /// A line that cannot be part of a reply; the connection is out of step and must go.
    struct Malformed: Error, CustomStringConvertible {
        let line: String
        var reason: String? = nil
        var description: String { reason ?? "malformed reply line '\(line)'" }
    }

    /// Feeds one line without its CRLF; returns the reply once its last line has arrived.
    mutating func feed(_ line: [UInt8]) throws(Malformed) -> SMTPReply? {
        var text: String { String(decoding: line, as: UTF8.self) }
        guard line.count >= 3,
              let d0 = digit(line[0]), (2...5).contains(d0),
              let d1 = digit(line[1]), (0...5).contains(d1),
              let d2 = digit(line[2])
        else { throw Malformed(line: text) }
        let lineCode = d0 * 100 + d1 * 10 + d2
        if let code, code != lineCode { throw Malformed(line: text) }
        code = lineCode

        var isLast = true
        var body: [UInt8] = []
        if line.count > 3 {
            switch line[3] {
            case UInt8(ascii: "-"): isLast = false
            case UInt8(ascii: " "): break
            default: throw Malformed(line: text)
            }
            body = Array(line[4...])
        }
        bytes += line.count
        guard lines.count < Self.maxLines, bytes <= Self.maxBytes else {
            throw Malformed(line: "", reason: "reply longer than \(Self.maxLines) lines or \(Self.maxBytes) bytes")
        }
        lines.append(String(decoding: body, as: UTF8.self))
        guard isLast else { return nil }

        let reply = SMTPReply(code: lineCode, enhancedCode: Self.enhancedCode(lines[0], code: lineCode), lines: lines)
        self.code = nil
        lines = []
        bytes = 0
        return reply
    }

    var isMidReply: Bool { code != nil }

    private func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// RFC 3463: class.subject.detail, the class matching the reply's first digit: the first
    /// word of the text, read over its UTF-8 bytes (splitting Strings was a tenth of
    /// `mail send-test`'s instructions).
    static func enhancedCode(_ text: String, code: Int) -> String? {
        var copy = text
        return copy.withUTF8 { bytes -> String? in
            var i = 0
            while i < bytes.count && bytes[i] == UInt8(ascii: " ") { i += 1 }
            let start = i
            while i < bytes.count && bytes[i] != UInt8(ascii: " ") { i += 1 }
            let token = UnsafeBufferPointer(rebasing: bytes[start..<i])
            // "2" then ".", then two numbers of one to three characters as Int reads them.
            guard token.count >= 5, token[0] == UInt8(ascii: "0") + UInt8(code / 100), token[1] == UInt8(ascii: ".") else { return nil }
            var parts: [Range<Int>] = []
            var partStart = 2
            for k in 2...token.count where k == token.count || token[k] == UInt8(ascii: ".") {
                parts.append(partStart..<k)
                partStart = k + 1
            }
            guard parts.count == 2 else { return nil }
            for part in parts {
                guard (1...3).contains(part.count) else { return nil }
                var digits = part
                if token[part.lowerBound] == UInt8(ascii: "+") || token[part.lowerBound] == UInt8(ascii: "-") {
                    digits = (part.lowerBound + 1)..<part.upperBound
                }
                guard !digits.isEmpty, digits.allSatisfy({ (48...57).contains(token[$0]) }) else { return nil }
            }
            return String(decoding: token, as: UTF8.self)
        }
    }
}
