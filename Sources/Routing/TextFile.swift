import Foundation

/// Strict decoding of a text file that people write (complaints TSV, rules, configuration,
/// secrets): bytes that are not UTF-8 are an error naming the file and line, never replaced with
/// U+FFFD; a NUL byte too, since PostgreSQL's text cannot hold one and C APIs stop at it.
public enum TextFile {
    /// One bad line.
    public struct Problem: Sendable, Equatable {
        public let line: Int
        public let message: String
    }

    /// The problems, one per bad line (at most 20 listed, then a count of the rest).
    public struct Invalid: Error, CustomStringConvertible {
        public let fileName: String
        public let problems: [Problem]
        public let unlisted: Int
        public var lines: [String] {
            problems.map { "\(fileName):\($0.line): \($0.message)" }
                + (unlisted > 0 ? ["\(fileName): \(unlisted) more line(s) with the same problem"] : [])
        }
        public var description: String { lines.joined(separator: "\n") }
    }

    public static func decodeStrictly(_ data: Data, fileName: String) throws(Invalid) -> String {
        try decodeStrictly([UInt8](data), fileName: fileName)
    }

    public static func decodeStrictly(_ bytes: [UInt8], fileName: String) throws(Invalid) -> String {
        if !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) { return text }
        var problems: [Problem] = []
        var unlisted = 0
        var number = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let message: String
            if let nul = line.firstIndex(of: 0) {
                message = "a NUL byte at byte \(nul - line.startIndex + 1)"
            } else if String(validating: line, as: UTF8.self) == nil {
                message = "not valid UTF-8 (save the file as UTF-8)"
            } else {
                continue
            }
            if problems.count < 20 { problems.append(Problem(line: number, message: message)) } else { unlisted += 1 }
        }
        throw Invalid(fileName: fileName, problems: problems, unlisted: unlisted)
    }
}
