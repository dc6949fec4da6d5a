/// Writes one header field as lines of at most 78 characters where the content allows, by breaking
/// at the spaces between the given tokens (RFC 5322 §2.2.3); a token never gets cut, and a line
/// over 998 octets is an error rather than a message the relay will mangle.
enum HeaderFolder {
    static let preferredLength = 78
    static let hardLength = 998

    static func fold(name: String, tokens: [String]) throws(MIMEError) -> String {
        var lines: [String] = []
        var current = name + ":"
        for token in tokens {
            if current.utf8.count + 1 + token.utf8.count > preferredLength && current.utf8.count > name.utf8.count + 1 {
                lines.append(current)
                current = " " + token
            } else {
                current += " " + token
            }
            if current.utf8.count > hardLength { throw .headerTooLong(field: name) }
        }
        lines.append(current)
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
