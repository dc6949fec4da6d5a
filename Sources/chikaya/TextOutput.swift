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

    /// Adds a row; cells are escaped (`TextOutput.escaped`): a cell is one line of plain text.
    mutating func add(_ row: [String]) { rows.append(row.map { TextOutput.escaped($0) }) }

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

/// Text from outside (a citizen's complaint, a login name, a note) made safe to write on a
/// staff terminal: C0 and C1 control characters and DEL, ESC above all, are shown as `\x1b`
/// instead of being sent raw, so no complaint can move the cursor, retitle the window or fake
/// output lines. Bidirectional marks stay: Arabic text needs them and they command nothing.
enum TextOutput {
    /// Prints text that may hold outside data, escaped; its own line breaks are kept.
    static func show(_ text: String) {
        print(escaped(text, keepNewlines: true))
    }

    static func escaped(_ text: String, keepNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0, keepNewlines: keepNewlines) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar, keepNewlines: keepNewlines) {
                let hex = String(scalar.value, radix: 16)
                out.append(contentsOf: ("\\x" + (hex.count < 2 ? "0" + hex : hex)).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// JSON for a terminal or a pipe: the encoder already escapes C0 controls; DEL and C1 (a
    /// raw U+009B is a CSI to many terminals) become `\u00XX` escapes, the same text to a parser.
    static func jsonSafe(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { (0x7F...0x9F).contains($0.value) }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if (0x7F...0x9F).contains(scalar.value) {
                out.append(contentsOf: ("\\u00" + String(scalar.value, radix: 16)).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func isControl(_ scalar: Unicode.Scalar, keepNewlines: Bool) -> Bool {
        switch scalar.value {
        case 0x0A: !keepNewlines
        case 0x00...0x1F, 0x7F...0x9F: true
        default: false
        }
    }
}
