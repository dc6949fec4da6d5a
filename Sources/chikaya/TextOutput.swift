/// A plain-text table with columns padded to their widest cell.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns aligned right (numbers).
    var rightAligned: Set<Int> = []

    init(_ header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render(indent: String = "") -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                if i == cells.count - 1 && !rightAligned.contains(i) { parts.append(cell); continue }
                parts.append(rightAligned.contains(i) ? pad + cell : cell + pad)
            }
            // No trailing blanks when the last cells are empty.
            let joined = indent + parts.joined(separator: "  ")
            return String(joined.reversed().drop { $0 == " " }.reversed())
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// Output formats of the listing commands.
enum OutputFormat: String {
    case table, tsv, json

    static func parse(_ text: String?, allowed: [OutputFormat], command: String) throws(CLIError) -> OutputFormat {
        guard let text else { return .table }
        guard let format = OutputFormat(rawValue: text), allowed.contains(format) else {
            throw .usage("\(command): --format takes \(allowed.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        return format
    }
}
