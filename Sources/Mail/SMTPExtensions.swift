/// What the server announced in its EHLO reply (RFC 5321 §4.1.1.1): one keyword per line after
/// the first, with optional parameters. Empty after HELO, as a HELO server offers nothing.
public struct SMTPExtensions: Sendable, Equatable {
    private var keywords: [String: [String]] = [:]

    public init() {}

    init(ehloReply: SMTPReply) {
        for line in ehloReply.lines.dropFirst() {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            keywords[keyword.uppercased()] = Array(words.dropFirst())
        }
    }

    public func offers(_ keyword: String) -> Bool { keywords[keyword.uppercased()] != nil }

    public func parameters(_ keyword: String) -> [String] { keywords[keyword.uppercased()] ?? [] }

    /// RFC 1870: the largest message the server takes, nil when it set no limit.
    public var sizeLimit: Int? {
        guard offers("SIZE"), let limit = parameters("SIZE").first.flatMap({ Int($0) }), limit > 0 else { return nil }
        return limit
    }

    public var authMechanisms: Set<String> { Set(parameters("AUTH").map { $0.uppercased() }) }

    public var names: [String] { keywords.keys.sorted() }
}
