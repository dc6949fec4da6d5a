/// A labelled corpus in the city's TSV format: header `id lang arrondissement department text`,
/// one complaint a line; department may be empty (unlabelled), arrondissement too.
public struct LabelledCorpus: Sendable {
    /// One complaint of the corpus.
    public struct Row: Sendable {
        public let line: Int
        public let id: String
        public let lang: String
        public let arrondissement: String?
        public let department: String?
        public let text: String
    }

    /// A line of the corpus that cannot be read, with its line number.
    public struct FormatError: Error, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    public let rows: [Row]

    public static func parse(_ source: String, fileName: String) throws(FormatError) -> LabelledCorpus {
        var rows: [Row] = []
        var number = 0
        for raw in source.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.isEmpty { continue }
            let fields = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false)
            if number == 1 && fields.first == "id" { continue }
            guard fields.count == 5 else {
                throw FormatError(file: fileName, line: number,
                                  message: "expected 5 tab-separated fields (id lang arrondissement department text), found \(fields.count)")
            }
            rows.append(Row(line: number, id: String(fields[0]), lang: String(fields[1]),
                            arrondissement: fields[2].isEmpty ? nil : String(fields[2]),
                            department: fields[3].isEmpty ? nil : String(fields[3]), text: String(fields[4])))
        }
        return LabelledCorpus(rows: rows)
    }
}
