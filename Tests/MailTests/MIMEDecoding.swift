import Foundation
@testable import Mail

/// Just enough of a MIME reader to check that what we write decodes back to what we meant.
enum MIMEDecoding {
    /// Header lines unfolded, keyed by lower-cased name.
    static func headers(_ message: String) -> [String: String] {
        let head = message.components(separatedBy: "\r\n\r\n")[0]
        var result: [String: String] = [:]
        var last = ""
        for line in head.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                result[last, default: ""] += line
            } else if let colon = line.firstIndex(of: ":") {
                last = line[..<colon].lowercased()
                result[last] = String(line[line.index(after: colon)...].dropFirst())
            }
        }
        return result
    }

    /// Decodes a header value made of B encoded-words separated by folding white space.
    static func decodeWords(_ value: String) -> String {
        var bytes: [UInt8] = []
        for word in value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }) {
            guard word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="),
                  let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) else { return value }
            bytes += data
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let lines = text.components(separatedBy: "\r\n")
        for (index, line) in lines.enumerated() {
            var chars = Array(line.utf8)
            var soft = false
            if chars.last == UInt8(ascii: "=") { chars.removeLast(); soft = true }
            var i = 0
            while i < chars.count {
                if chars[i] == UInt8(ascii: "="), i + 2 < chars.count + 0,
                   let value = UInt8(String(decoding: chars[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                    bytes.append(value)
                    i += 3
                } else {
                    bytes.append(chars[i])
                    i += 1
                }
            }
            if !soft && index < lines.count - 1 { bytes += [13, 10] }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func decodeBase64(_ text: String) -> String {
        String(decoding: Data(base64Encoded: text.replacingOccurrences(of: "\r\n", with: "")) ?? Data(), as: UTF8.self)
    }
}
