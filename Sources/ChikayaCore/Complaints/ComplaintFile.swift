import Foundation

/// Reads complaints from a tab-separated file with a header line, in the corpus format
/// (`id lang arrondissement department text`) plus optional citizen columns
/// (`anonymous name email phone notify_language`). Columns are found by name; `id` and
/// `department` are ignored. Every problem of the file is reported with its line.
public enum ComplaintFile {
    /// Every problem found in a file, one line each, each naming its line number.
    public struct Problems: Error, CustomStringConvertible {
        public let lines: [String]
        public var description: String { lines.joined(separator: "\n") }
    }

    /// The app declares `ar` or `fr`; the corpus's finer labels map onto those, or none.
    static func declaredLanguage(_ label: String) -> String? {
        switch label {
        case "ar", "darija-ar": "ar"
        case "fr": "fr"
        default: nil
        }
    }

    /// Reads the file's bytes: a line that is not UTF-8, or that holds a NUL byte (PostgreSQL's
    /// text cannot, and a C string would silently end there), is reported with its number
    /// instead of being repaired or cut.
    public static func parse(data: Data, fileName: String) throws(Problems) -> [NewComplaint] {
        let text: String
        do { text = try TextFile.decodeStrictly(data, fileName: fileName) } catch { throw Problems(lines: error.lines) }
        return try parse(text, fileName: fileName)
    }

    public static func parse(_ text: String, fileName: String) throws(Problems) -> [NewComplaint] {
        // "\r\n" is one Character in Swift, so splitting on "\n" alone would leave a CRLF file whole.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let header = lines.first else {
            throw Problems(lines: ["\(fileName): the file is empty; expected a header line with a 'text' column"])
        }
        let columns = header.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard let textColumn = columns.firstIndex(of: "text") else {
            throw Problems(lines: ["\(fileName):1: the header has no 'text' column (found: \(columns.joined(separator: ", ")))"])
        }
        func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
        let lang = column("lang") ?? column("language")
        let arrondissement = column("arrondissement")
        let anonymous = column("anonymous")
        let name = column("name")
        let email = column("email")
        let phone = column("phone")
        let notify = column("notify_language")

        var complaints: [NewComplaint] = []
        var problems: [String] = []
        for (offset, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let number = offset + 1
            guard fields.count == columns.count else {
                problems.append("\(fileName):\(number): expected \(columns.count) tab-separated fields, found \(fields.count)")
                continue
            }
            func value(_ index: Int?) -> String? {
                guard let index else { return nil }
                let v = fields[index].trimmingCharacters(in: .whitespaces)
                return v.isEmpty ? nil : v
            }
            let isAnonymous: Bool
            switch value(anonymous)?.lowercased() {
            case nil, "0", "false", "no", "f": isAnonymous = false
            case "1", "true", "yes", "t": isAnonymous = true
            case let other?:
                problems.append("\(fileName):\(number): anonymous must be true or false, not '\(other)'")
                continue
            }
            let complaint = NewComplaint(body: fields[textColumn],
                                         language: value(lang).flatMap(declaredLanguage),
                                         arrondissement: value(arrondissement),
                                         anonymous: isAnonymous,
                                         citizenName: value(name),
                                         citizenEmail: value(email),
                                         citizenPhone: value(phone),
                                         notifyLanguage: value(notify))
            let found = complaint.problems()
            if found.isEmpty {
                complaints.append(complaint)
            } else {
                problems += found.map { "\(fileName):\(number): \($0)" }
            }
        }
        guard problems.isEmpty else { throw Problems(lines: problems) }
        return complaints
    }
}
