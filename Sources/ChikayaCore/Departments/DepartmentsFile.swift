import Foundation
import Routing

/// `config/departments.conf` parsed: per department its working language, Reply-To, deadlines
/// and contacts. The file is the hand-edited seed; `chikaya departments sync` writes it to the
/// database, where the running system reads it.
///
/// ```
/// [proprete]
/// language = fr                 # ar or fr; fr when absent
/// reply_to = proprete@casablanca.ma
/// first_action_days = 3         # absent: no target
/// resolution_days = 15
/// contact = proprete@casablanca.ma              # the default office
/// contact sidi-bernoussi = proprete.sb@casablanca.ma
/// ```
public struct DepartmentsFile: Sendable {
    /// One `[section]` of the file.
    public struct Entry: Sendable {
        public var department: String
        public var language = "fr"
        public var replyTo: String?
        public var firstActionDays: Int?
        public var resolutionDays: Int?
        public var contacts: [DepartmentContact] = []
    }

    public let path: String
    public let entries: [Entry]

    /// Parses the file, reporting every malformed line together.
    public static func load(path: String) throws(DepartmentError) -> DepartmentsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DepartmentError(.invalidFile, "\(path): cannot read the departments file")
        }
        let text: String
        do { text = try TextFile.decodeStrictly(data, fileName: path) } catch {
            throw DepartmentError(.invalidFile, error.description)
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(DepartmentError) -> DepartmentsFile {
        var entries: [Entry] = []
        var problems: [String] = []
        // "\r\n" is one Character in Swift: split on both so a CRLF file is read line by line.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, raw) in lines.enumerated() {
            let place = "\(path):\(index + 1)"
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("[") {
                guard trimmed.hasSuffix("]"), trimmed.count > 2 else {
                    problems.append("\(place): expected '[department]'")
                    continue
                }
                let code = String(trimmed.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if !CityDirectory.departmentCodes.contains(code) {
                    problems.append("\(place): unknown department '\(code)' (known: \(CityDirectory.departments.map(\.code).joined(separator: ", ")))")
                }
                if entries.contains(where: { $0.department == code }) {
                    problems.append("\(place): department '\(code)' appears twice")
                }
                entries.append(Entry(department: code))
                continue
            }
            guard !entries.isEmpty else {
                problems.append("\(place): a setting before any '[department]'")
                continue
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                problems.append("\(place): expected 'key = value'")
                continue
            }
            let key = trimmed[..<equals].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            var entry = entries.removeLast()
            defer { entries.append(entry) }
            switch (key.first ?? "", key.count) {
            case ("language", 1):
                guard value == "ar" || value == "fr" else { problems.append("\(place): language is ar or fr, not '\(value)'"); continue }
                entry.language = value
            case ("reply_to", 1):
                guard DepartmentStore.isPlausibleEmail(value) else { problems.append("\(place): '\(value)' is not an email address"); continue }
                entry.replyTo = value
            case ("first_action_days", 1), ("resolution_days", 1):
                // The same bounds as the database's CHECKs, so a bad value is reported with its
                // line before anything is written.
                let limit = key[0] == "first_action_days" ? 365 : 3650
                guard let days = Int(value), (1...limit).contains(days) else {
                    problems.append("\(place): \(key[0]) is a whole number of days from 1 to \(limit), not '\(value)'")
                    continue
                }
                if key[0] == "first_action_days" { entry.firstActionDays = days } else { entry.resolutionDays = days }
            case ("contact", 1), ("contact", 2):
                guard DepartmentStore.isPlausibleEmail(value) else { problems.append("\(place): '\(value)' is not an email address"); continue }
                let arrondissement = key.count == 2 ? key[1] : nil
                if let arrondissement, !CityDirectory.arrondissementCodes.contains(arrondissement) {
                    problems.append("\(place): unknown arrondissement '\(arrondissement)'")
                    continue
                }
                if entry.contacts.contains(where: { $0.arrondissement == arrondissement }) {
                    problems.append("\(place): a second contact for \(arrondissement ?? "the default office")")
                    continue
                }
                entry.contacts.append(DepartmentContact(department: entry.department, arrondissement: arrondissement, email: value))
            default:
                problems.append("\(place): unknown setting '\(key.joined(separator: " "))' (language, reply_to, first_action_days, resolution_days, contact [ARRONDISSEMENT])")
            }
        }
        guard problems.isEmpty else { throw DepartmentError(.invalidFile, problems.joined(separator: "\n")) }
        return DepartmentsFile(path: path, entries: entries)
    }
}
