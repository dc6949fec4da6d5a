import Foundation

/// A reply split into what its writer added and what it quotes.
public struct SeparatedReply: Sendable, Equatable {
    /// The new text, above the quotation and the signature, trimmed.
    public let newText: String
    /// The quotation with its attribution line or header block, when there is one.
    public let quoted: String?
}

/// Finds where the quotation starts in a reply, the way the usual clients write it:
/// Gmail and Thunderbird ("On … wrote:", "Le … a écrit :", Arabic "… كتب:"), Apple Mail (the same
/// with the address), Outlook's "-----Original Message-----" or its From/Sent/To/Subject block
/// (French and Arabic labels too), and `>` lines. A `-- ` signature ends the new text.
public enum QuotedTextSeparator {
    public static func separate(_ text: String) -> SeparatedReply {
        let lines = TextScanning.lines(text)
        var cut = lines.count
        var signature = lines.count
        for index in lines.indices {
            if lines[index] == "-- " || lines[index] == "--" {
                signature = min(signature, index)
            }
            if startsQuote(lines, at: index) {
                cut = index
                break
            }
        }
        let newLines = lines[..<min(cut, signature)]
        let newText = newLines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let quoted = cut < lines.count ? lines[cut...].joined(separator: "\n") : nil
        return SeparatedReply(newText: newText, quoted: quoted)
    }

    /// Bidirectional marks that Arabic clients put around names and dates.
    static func withoutBidiMarks(_ line: String) -> String {
        String(String.UnicodeScalarView(line.unicodeScalars.filter {
            !(0x200E...0x200F).contains($0.value) && !(0x202A...0x202E).contains($0.value) && !(0x2066...0x2069).contains($0.value)
        }))
    }

    private static let separatorLines = [
        "-----original message-----", "-----message d'origine-----", "-----message d’origine-----",
        "-----الرسالة الأصلية-----", "---------- forwarded message ---------", "---------- message transfere ---------",
        "debut du message reexpedie", "begin forwarded message",
    ].map(TextScanning.folded)

    private static let fromLabels = ["from:", "de :", "de:", "من:", "من :"]
    private static let headerLabels = ["sent:", "envoye :", "envoye:", "date:", "date :", "to:", "a :", "a:", "subject:",
                                       "objet :", "objet:", "cc:", "cc :", "أرسل:", "أرسلت:", "التاريخ:", "إلى:", "الموضوع:", "نسخة:"]
        .map(TextScanning.folded)

    static func startsQuote(_ lines: [String], at index: Int) -> Bool {
        let line = withoutBidiMarks(lines[index]).trimmingCharacters(in: .whitespaces)
        if line.isEmpty { return false }
        if line.hasPrefix(">") { return true }
        let folded = TextScanning.folded(line)
        if separatorLines.contains(where: { folded.hasPrefix($0) }) { return true }
        if line.count >= 20 && line.allSatisfy({ $0 == "_" }) { return true }
        // An attribution may be wrapped over up to three lines (Gmail wraps at 80 columns).
        var joined = ""
        for offset in 0..<3 where index + offset < lines.count {
            let part = withoutBidiMarks(lines[index + offset]).trimmingCharacters(in: .whitespaces)
            if offset > 0 && part.isEmpty { break }
            joined += (joined.isEmpty ? "" : " ") + part
            if isAttribution(joined) { return true }
        }
        if fromLabels.contains(where: { folded.hasPrefix(TextScanning.folded($0)) }) {
            let following = lines[(index + 1)..<min(lines.count, index + 6)].map {
                TextScanning.folded(withoutBidiMarks($0).trimmingCharacters(in: .whitespaces))
            }
            return following.filter { next in headerLabels.contains { next.hasPrefix($0) } }.count >= 2
        }
        return false
    }

    private static func isAttribution(_ text: String) -> Bool {
        let folded = TextScanning.folded(text)
        guard folded.count < 400 else { return false }
        if folded.hasPrefix("on ") && (folded.hasSuffix("wrote:") || folded.hasSuffix("wrote :")) { return true }
        if folded.hasPrefix("le ") && (folded.hasSuffix("a ecrit :") || folded.hasSuffix("a ecrit:")) { return true }
        // Arabic, starting with "في" (on): "في ٥ مارس ٢٠٢٤، كتب فلان:" and Gmail's "تمت كتابة ما يلي بواسطة … :".
        // A date or an address must be there too, so a sentence of the reply that ends with ":"
        // and says "I wrote" is not taken for one.
        if text.hasPrefix("في") && text.hasSuffix(":") && (text.contains("كتب") || text.contains("كتابة ما يلي")) && text.count < 300,
           text.contains("@") || text.unicodeScalars.contains(where: { ("0"..."9").contains($0) || (0x0660...0x0669).contains($0.value) }) {
            return true
        }
        return false
    }
}
