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

    /// The words of plain (unencoded) header text, split at every run of spaces and tabs. The
    /// folder writes one space between tokens, so a token must hold no white space of its own:
    /// a tab left inside one could become a continuation line of nothing but white space (the
    /// obsolete syntax of RFC 5322 §4.2, and a blank line that ends the header block once a
    /// relay trims trailing white space). White-space-only text has no words.
    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }
}
