import Foundation

/// Small scanners over plain text that the bounce and reply readers share: addresses,
/// enhanced status codes (RFC 3463), SMTP reply codes.
public enum TextScanning {
    private static let localSymbols = Set("._%+-=!#$&'*/?^`{|}~".unicodeScalars)

    private static func isLocal(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || localSymbols.contains(scalar)))
    }

    private static func isDomain(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "." || scalar == "-")
    }

    /// Every `local@domain` in the text, in order, lower-cased domain, without surrounding
    /// brackets or a trailing dot.
    static func addresses(in text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var found: [String] = []
        var index = 0
        while index < scalars.count {
            guard scalars[index] == "@" else { index += 1; continue }
            var start = index
            while start > 0 && isLocal(scalars[start - 1]) { start -= 1 }
            var end = index + 1
            while end < scalars.count && isDomain(scalars[end]) { end += 1 }
            var domain = String(String.UnicodeScalarView(scalars[(index + 1)..<end]))
            while domain.hasSuffix(".") || domain.hasSuffix("-") { domain.removeLast() }
            var local = String(String.UnicodeScalarView(scalars[start..<index]))
            while local.hasPrefix(".") { local.removeFirst() }
            if !local.isEmpty, domain.contains("."), !domain.hasPrefix(".") {
                found.append(local + "@" + domain.lowercased())
            }
            index = max(end, index + 1)
        }
        return found
    }

    public static func firstAddress(in text: String) -> String? {
        addresses(in: text).first
    }

    /// The first enhanced status code (`5.1.1`, `4.4.7`, `5.7.606`) in the text.
    public static func enhancedStatus(in text: String) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "2") || byte == UInt8(ascii: "4") || byte == UInt8(ascii: "5"),
                  index == 0 || !(isDigit(bytes[index - 1]) || bytes[index - 1] == UInt8(ascii: ".")),
                  index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: ".") else { index += 1; continue }
            var cursor = index + 2
            let second = digits(bytes, &cursor)
            guard (1...3).contains(second), cursor < bytes.count, bytes[cursor] == UInt8(ascii: ".") else { index += 1; continue }
            cursor += 1
            let third = digits(bytes, &cursor)
            guard (1...3).contains(third), cursor == bytes.count || !(isDigit(bytes[cursor]) || (bytes[cursor] == UInt8(ascii: ".") && cursor + 1 < bytes.count && isDigit(bytes[cursor + 1]))) else {
                index += 1
                continue
            }
            return String(decoding: bytes[index..<cursor], as: UTF8.self)
        }
        return nil
    }

    /// The first three-digit SMTP reply code 4xx or 5xx standing as a word (`550 `, `550-`).
    static func smtpCode(in text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 3 else { return nil }
        for index in 0...(bytes.count - 3) {
            let first = bytes[index]
            guard first == UInt8(ascii: "4") || first == UInt8(ascii: "5"),
                  isDigit(bytes[index + 1]), isDigit(bytes[index + 2]),
                  index == 0 || !(isDigit(bytes[index - 1]) || bytes[index - 1] == UInt8(ascii: ".") || bytes[index - 1] == UInt8(ascii: "#")),
                  index + 3 == bytes.count || bytes[index + 3] == 32 || bytes[index + 3] == UInt8(ascii: "-")
            else { continue }
            return Int(String(decoding: bytes[index..<(index + 3)], as: UTF8.self))
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    private static func digits(_ bytes: [UInt8], _ cursor: inout Int) -> Int {
        let start = cursor
        while cursor < bytes.count && isDigit(bytes[cursor]) { cursor += 1 }
        return cursor - start
    }

    /// Lines of text, LF or CRLF ended.
    static func lines(_ text: String) -> [String] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map(String.init)
    }

    /// Lower-cased, accents removed, for matching words whatever the writer's keyboard.
    static func folded(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
        // Arabic short vowels, shadda, sukun, dagger alif and tatweel are not "diacritics" to
        // Foundation's folding; writers add them at will.
        guard folded.unicodeScalars.contains(where: { (0x0640...0x0670).contains($0.value) }) else { return folded }
        return String(String.UnicodeScalarView(folded.unicodeScalars.filter {
            !((0x064B...0x065F).contains($0.value) || $0.value == 0x0670 || $0.value == 0x0640)
        }))
    }
}
