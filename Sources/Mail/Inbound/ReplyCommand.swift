import Foundation

/// What a department office asks for in the first line of its reply.
public enum ReplyCommand: Sendable, Equatable {
    /// `en cours` / `قيد المعالجة` → in_progress, `résolu` / `تم الحل` → resolved,
    /// `rejeté: motif` / `مرفوض: السبب` → rejected (the reason is the note, and required).
    case setStatus(String, note: String?)
    /// `réaffecter DEPARTEMENT` / `تحويل DEPARTEMENT`: the code as written, lower-cased.
    case reassign(String, note: String?)
    /// A command word without what it needs (a rejection without its reason, a move without
    /// a department): refused, with this reason.
    case incomplete(String)
    /// No command on the first line: the whole text is a note.
    case none(String)

    /// The `command=` value of `mail-in --explain`.
    public var explainValue: String {
        switch self {
        case .setStatus(let status, _): status
        case .reassign(let department, _): "reassign:\(department)"
        case .incomplete: "incomplete"
        case .none: "none"
        }
    }
}

/// Reads the command of an office's reply from its new text (quoted text already removed).
/// Case, accents and Arabic diacritics do not matter; a trailing full stop is ignored.
public enum ReplyCommandParser {
    private enum Verb: Sendable { case status(String), reject, reassign }

    /// The reasons of `.incomplete`, as the office's answer and `--explain` give them.
    public static let rejectionNeedsReason = "a rejection needs its reason: rejeté: motif / مرفوض: السبب"
    public static let moveNeedsDepartment = "a move needs the department's code: réaffecter DEPARTEMENT / تحويل DEPARTEMENT"

    private static let verbs: [(String, Verb)] = ([
        ("en cours", .status("in_progress")), ("encours", .status("in_progress")), ("قيد المعالجة", .status("in_progress")),
        ("resolue", .status("resolved")), ("resolu", .status("resolved")), ("تم الحل", .status("resolved")),
        ("rejetee", .reject), ("rejete", .reject), ("مرفوض", .reject),
        ("reaffecter", .reassign), ("تحويل", .reassign),
    ] as [(String, Verb)]).map { (TextScanning.folded($0.0), $0.1) }

    public static func parse(_ newText: String) -> ReplyCommand {
        let lines = TextScanning.lines(newText)
        guard let first = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            return .none("")
        }
        let line = QuotedTextSeparator.withoutBidiMarks(lines[first]).trimmingCharacters(in: .whitespaces)
        let rest = lines[(first + 1)...].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        let folded = TextScanning.folded(line)
        for (word, verb) in verbs where folded.hasPrefix(word) {
            let after = folded.dropFirst(word.count)
            // A whole word only: "resolution" is not "résolu".
            if let next = after.first, next.isLetter { continue }
            // What follows the word, in the writer's own spelling (folding keeps the length of
            // these words, but not always of the rest, so cut the original text).
            let argument = Self.argument(of: line, skipping: word.count)
            switch verb {
            case .status(let status):
                let note = [argument, rest].filter { !$0.isEmpty }.joined(separator: "\n")
                return .setStatus(status, note: note.isEmpty ? nil : note)
            case .reject:
                let reason = [argument, rest].filter { !$0.isEmpty }.joined(separator: "\n")
                guard !reason.isEmpty else { return .incomplete(rejectionNeedsReason) }
                return .setStatus("rejected", note: reason)
            case .reassign:
                guard let code = argument.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map({ $0.lowercased() }),
                      !code.isEmpty else {
                    return .incomplete(moveNeedsDepartment)
                }
                let remainder = argument.dropFirst(code.count).trimmingCharacters(in: .whitespaces)
                let note = [remainder, rest].filter { !$0.isEmpty }.joined(separator: "\n")
                return .reassign(code.trimmingCharacters(in: CharacterSet(charactersIn: ".,;")), note: note.isEmpty ? nil : note)
            }
        }
        return .none(newText.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The text after the command word: separators (`:`, `-`, blanks) and a final full stop removed.
    private static func argument(of line: String, skipping count: Int) -> String {
        var text = Substring(line)
        // Skip as many characters as the folded word had, stepping over combining marks the
        // folding removed (Arabic diacritics, decomposed accents).
        var skipped = 0
        while skipped < count, let character = text.first {
            text = text.dropFirst()
            if !TextScanning.folded(String(character)).isEmpty { skipped += TextScanning.folded(String(character)).count }
        }
        var result = text.trimmingCharacters(in: .whitespaces)
        while let first = result.first, [":", "：", "-", "–", "—"].contains(first) {
            result.removeFirst()
            result = result.trimmingCharacters(in: .whitespaces)
        }
        if result.hasSuffix(".") { result.removeLast() }
        return result.trimmingCharacters(in: .whitespaces)
    }
}
