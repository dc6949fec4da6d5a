import Foundation

/// Turns an HTML body into plain text for a message sent without a text/plain part: tags
/// dropped, script and style contents dropped, block elements as line breaks, entities decoded,
/// and `blockquote` contents prefixed with `> ` so the quoted-text separator still sees them.
public enum HTMLText {
    private static let blockTags: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "pre", "blockquote", "section", "article", "header", "footer", "dd", "dt", "dl",
    ]
    private static let hiddenTags: Set<String> = ["script", "style", "head", "title", "template"]

    public static func plain(_ html: String) -> String {
        var lines: [String] = []
        var line = ""
        var quoteDepth = 0
        var hidden: String?
        var pendingSpace = false

        func breakLine() {
            let prefix = String(repeating: ">", count: quoteDepth)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            lines.append(quoteDepth > 0 ? (trimmed.isEmpty ? prefix : prefix + " " + trimmed) : trimmed)
            line = ""
            pendingSpace = false
        }
        func append(_ text: String) {
            for character in text {
                if character == " " || character == "\t" || character == "\n" || character == "\r" {
                    pendingSpace = !line.isEmpty
                } else {
                    if pendingSpace { line.append(" ") }
                    pendingSpace = false
                    line.append(character == "\u{00A0}" ? " " : character)
                }
            }
        }

        var rest = Substring(html)
        var textRun = ""
        while !rest.isEmpty {
            let character = rest.first!
            if character == "<" {
                if hidden == nil { append(decodeEntities(textRun)) }
                textRun = ""
                if rest.hasPrefix("<!--") {
                    rest = rest.range(of: "-->").map { rest[$0.upperBound...] } ?? ""
                    continue
                }
                guard let close = rest.firstIndex(of: ">") else { break }
                let tag = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                let closing = tag.hasPrefix("/")
                let name = tag.drop(while: { $0 == "/" }).prefix(while: { $0.isLetter || $0.isNumber }).lowercased()
                if let hiddenName = hidden {
                    if closing && name == hiddenName { hidden = nil }
                    continue
                }
                if hiddenTags.contains(name) && !closing && !tag.hasSuffix("/") {
                    hidden = name
                    continue
                }
                if name == "blockquote" {
                    if !line.isEmpty { breakLine() }
                    quoteDepth = closing ? max(0, quoteDepth - 1) : min(quoteDepth + 1, 20)
                } else if blockTags.contains(name) {
                    if name == "br" || !line.isEmpty { breakLine() }
                }
                continue
            }
            textRun.append(character)
            rest = rest.dropFirst()
        }
        if hidden == nil { append(decodeEntities(textRun)) }
        if !line.isEmpty { breakLine() }
        // At most one empty line in a row, none at either end.
        var result: [String] = []
        for line in lines {
            if line.isEmpty && (result.last?.isEmpty ?? true) { continue }
            result.append(line)
        }
        while result.last?.isEmpty == true { result.removeLast() }
        return result.joined(separator: "\n")
    }

    private static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}",
        "eacute": "é", "egrave": "è", "ecirc": "ê", "agrave": "à", "acirc": "â", "ccedil": "ç",
        "ocirc": "ô", "ucirc": "û", "ugrave": "ù", "icirc": "î", "iuml": "ï", "euml": "ë",
        "laquo": "«", "raquo": "»", "rsquo": "’", "lsquo": "‘", "ldquo": "“", "rdquo": "”",
        "hellip": "…", "ndash": "–", "mdash": "—", "euro": "€", "copy": "©", "rlm": "\u{200F}", "lrm": "\u{200E}",
    ]

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            output += rest[..<amp]
            rest = rest[amp...]
            let candidate = rest.dropFirst().prefix(12)
            if let semicolon = candidate.firstIndex(of: ";") {
                let name = candidate[..<semicolon]
                var replacement: String?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    replacement = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String($0) }
                } else if name.hasPrefix("#") {
                    replacement = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String($0) }
                } else {
                    replacement = named[name.lowercased()]
                }
                if let replacement {
                    output += replacement
                    rest = rest[rest.index(after: semicolon)...]
                    continue
                }
            }
            output.append("&")
            rest = rest.dropFirst()
        }
        return output + rest
    }
}
