/// One complete SMTP reply (RFC 5321 §4.2): the three-digit code, the RFC 3463 enhanced status
/// code when the server sent one, and the text of every line.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    /// "5.1.1" and the like, taken from the first line when it agrees with the code's class.
    public let enhancedCode: String?
    /// The text after the code and separator, one element per line, without CRLF.
    public let lines: [String]

    public init(code: Int, enhancedCode: String? = nil, lines: [String]) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.lines = lines
    }

    public var isPositiveCompletion: Bool { code / 100 == 2 }
    public var isPositiveIntermediate: Bool { code / 100 == 3 }
    public var isTransientNegative: Bool { code / 100 == 4 }
    public var isPermanentNegative: Bool { code / 100 == 5 }

    public var description: String {
        let text = lines.joined(separator: " / ")
        return text.isEmpty ? "\(code)" : "\(code) \(text)"
    }
}
