/// Writes one header field as lines of at most 78 characters where the content allows, by breaking
/// at the spaces between the given tokens (RFC 5322 §2.2.3); a token never gets cut, and a line
/// over 998 octets is an error rather than a message the relay will mangle.
enum HeaderFolder {
    static let preferredLength = 78
    static let hardLength = 998

    /// Appends the field `name: tokens...` to `out`, folded, with its final CR LF.
    static func fold(name: String, tokens: [String], into out: inout [UInt8]) throws(MIMEError) {
        let nameLength = name.utf8.count
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ":"))
        var lineLength = nameLength + 1
        for token in tokens {
            let tokenLength = token.utf8.count
            if lineLength + 1 + tokenLength > preferredLength && lineLength > nameLength + 1 {
                out.append(13)
                out.append(10)
                lineLength = 0
            }
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: token.utf8)
            lineLength += 1 + tokenLength
            if lineLength > hardLength { throw .headerTooLong(field: name) }
        }
        out.append(13)
        out.append(10)
    }

    /// The words of plain (unencoded) header text, split at every run of spaces and tabs. The
    /// folder writes one space between tokens, so a token must hold no white space of its own:
    /// a tab left inside one could become a continuation line of nothing but white space (the
    /// obsolete syntax of RFC 5322 §4.2, and a blank line that ends the header block once a
    /// relay trims trailing white space). White-space-only text has no words.
    static func words(_ text: String) -> [String] {
        // Over UTF-8 bytes: both separators are ASCII, so a cut never splits a character (split
        // over Characters was a third of writing the From and To headers).
        text.utf8.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
            .map { String(decoding: $0, as: UTF8.self) }
    }
}
