import Foundation

/// Reads an RFC 5322 message with its MIME structure (RFC 2045/2046): the reverse of
/// `MIMEMessage`, for what comes back in. Lenient about what real mail does (CR, LF or CRLF line
/// ends, missing final boundaries, unpadded base64, 8-bit headers) and strict about cost: see
/// `MIMELimits`.
public struct MIMEParser: Sendable {
    public let limits: MIMELimits

    public init(limits: MIMELimits = MIMELimits()) {
        self.limits = limits
    }

    public func parse(_ raw: [UInt8]) throws(MIMEParseError) -> MIMEPart {
        guard raw.count <= limits.maxBytes else { throw .tooLarge(bytes: raw.count, limit: limits.maxBytes) }
        var bytes = Self.normalizingLineEnds(raw)
        // An mbox "From " line (procmail, some Maildir writers) is not a header.
        if bytes.starts(with: Array("From ".utf8)), let end = bytes.firstIndex(of: 10) {
            bytes.removeSubrange(...end)
        }
        guard bytes.contains(where: { $0 != 10 && $0 != 32 && $0 != 9 }) else { throw .empty }
        var count = 0
        return try entity(bytes[...], depth: 0, count: &count, defaultType: .plainText)
    }

    /// CRLF and lone CR become LF, so every later step deals with one line end.
    static func normalizingLineEnds(_ raw: [UInt8]) -> [UInt8] {
        guard raw.contains(13) else { return raw }
        var result: [UInt8] = []
        result.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            if byte == 13 {
                result.append(10)
                if index + 1 < raw.count && raw[index + 1] == 10 { index += 1 }
            } else {
                result.append(byte)
            }
            index += 1
        }
        return result
    }

    private func entity(_ bytes: ArraySlice<UInt8>, depth: Int, count: inout Int,
                        defaultType: ContentType) throws(MIMEParseError) -> MIMEPart {
        count += 1
        guard count <= limits.maxParts else { throw .tooManyParts(limit: limits.maxParts) }
        let (headers, body) = try splitHead(bytes)
        let contentType = ContentType(parsing: headers["Content-Type"], default: defaultType)
        let encoding = headers["Content-Transfer-Encoding"]?.lowercased() ?? "7bit"

        if contentType.type == "multipart", let boundary = contentType.parameters["boundary"], !boundary.isEmpty {
            guard depth < limits.maxDepth else { throw .tooDeep(limit: limits.maxDepth) }
            let childDefault: ContentType = contentType.subtype == "digest"
                ? ContentType(type: "message", subtype: "rfc822", parameters: [:]) : .plainText
            var children: [MIMEPart] = []
            for range in Self.partRanges(body, boundary: Array(boundary.utf8)) {
                children.append(try entity(body[range], depth: depth + 1, count: &count, defaultType: childDefault))
            }
            return MIMEPart(headers: headers, contentType: contentType, body: [], parts: children, message: nil)
        }
        var decoded = Self.decodeTransfer(body, encoding: encoding)
        // Encoded text carries its own line ends (CRLF inside base64): one kind for every reader.
        if contentType.type == "text" || contentType.type == "message", encoding != "7bit", encoding != "8bit" {
            decoded = Self.normalizingLineEnds(decoded)
        }
        if contentType.type == "message", ["rfc822", "global"].contains(contentType.subtype) {
            guard depth < limits.maxDepth else { throw .tooDeep(limit: limits.maxDepth) }
            let inner = try entity(decoded[...], depth: depth + 1, count: &count, defaultType: .plainText)
            return MIMEPart(headers: headers, contentType: contentType, body: decoded, parts: [], message: inner)
        }
        return MIMEPart(headers: headers, contentType: contentType, body: decoded, parts: [], message: nil)
    }

    /// Header fields up to the first empty line; folded lines joined. A block whose first line is
    /// not a header field at all is all body.
    private func splitHead(_ bytes: ArraySlice<UInt8>) throws(MIMEParseError) -> (MIMEHeaders, ArraySlice<UInt8>) {
        var fields: [(name: String, value: String)] = []
        var index = bytes.startIndex
        var sawField = false
        while index < bytes.endIndex {
            let lineEnd = bytes[index...].firstIndex(of: 10) ?? bytes.endIndex
            let line = bytes[index..<lineEnd]
            let next = lineEnd < bytes.endIndex ? lineEnd + 1 : lineEnd
            if line.isEmpty {
                return (MIMEHeaders(fields: fields), bytes[next...])
            }
            if let first = line.first, first == 32 || first == 9 {
                if !fields.isEmpty {
                    fields[fields.count - 1].value += Self.headerText(line)
                }
                index = next
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy({ $0 > 32 && $0 < 127 }) else {
                // Not a field: without any field yet, the whole block is body; otherwise the
                // header ended without its empty line (seen in broken bounces).
                return (MIMEHeaders(fields: fields), sawField ? bytes[index...] : bytes)
            }
            sawField = true
            guard fields.count < limits.maxHeaderFields else { throw .tooManyHeaderFields(limit: limits.maxHeaderFields) }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            fields.append((name, Self.headerText(line[(colon + 1)...])))
            index = next
        }
        return (MIMEHeaders(fields: fields), bytes[bytes.endIndex...])
    }

    /// Header octets as text: UTF-8 (RFC 6532) when valid, else windows-1252.
    private static func headerText(_ bytes: ArraySlice<UInt8>) -> String {
        Charset.decodeGuessing(bytes, declared: nil)
    }

    /// The byte ranges between `--boundary` delimiter lines (RFC 2046 §5.1.1), preamble and
    /// epilogue left out. A missing close delimiter ends the last part at the end of the body.
    static func partRanges(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [Range<Int>] {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var ranges: [Range<Int>] = []
        var partStart: Int?
        var index = body.startIndex
        while index < body.endIndex {
            let lineEnd = body[index...].firstIndex(of: 10) ?? body.endIndex
            let line = body[index..<lineEnd]
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let isClose = rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                let trailer = isClose ? rest.dropFirst(2) : rest
                if trailer.allSatisfy({ $0 == 32 || $0 == 9 }) {
                    if let start = partStart {
                        // The line break before a delimiter belongs to the delimiter.
                        ranges.append(start..<max(start, index - 1))
                    }
                    if isClose { return ranges }
                    partStart = lineEnd < body.endIndex ? lineEnd + 1 : lineEnd
                }
            }
            index = lineEnd < body.endIndex ? lineEnd + 1 : body.endIndex
        }
        if let start = partStart, start < body.endIndex { ranges.append(start..<body.endIndex) }
        return ranges
    }

    static func decodeTransfer(_ body: ArraySlice<UInt8>, encoding: String) -> [UInt8] {
        switch encoding.trimmingCharacters(in: .whitespaces) {
        case "base64": base64(body)
        case "quoted-printable": quotedPrintable(body)
        default: Array(body)
        }
    }

    /// RFC 2045 §6.8: characters outside the alphabet are ignored; missing padding tolerated.
    static func base64(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in body {
            let value: UInt32
            switch byte {
            case 65...90: value = UInt32(byte - 65)
            case 97...122: value = UInt32(byte - 97 + 26)
            case 48...57: value = UInt32(byte - 48 + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): return output
            default: continue
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        return output
    }

    /// RFC 2045 §6.7: `=XX`, soft line breaks (`=` at a line's end), trailing blanks dropped; an
    /// `=` not followed by two hex digits is kept as it is (rule 1's robustness advice).
    static func quotedPrintable(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count)
        var lines = body.split(separator: 10, omittingEmptySubsequences: false)[...]
        if body.last == 10 { lines = lines.dropLast() }
        for (number, rawLine) in lines.enumerated() {
            var line = rawLine
            while let last = line.last, last == 32 || last == 9 { line = line.dropLast() }
            var soft = false
            if line.last == UInt8(ascii: "=") { soft = true; line = line.dropLast() }
            var index = line.startIndex
            while index < line.endIndex {
                let byte = line[index]
                if byte == UInt8(ascii: "="), let high = hex(line[safe: index + 1]), let low = hex(line[safe: index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                } else {
                    output.append(byte)
                    index += 1
                }
            }
            if !soft && (number < lines.count - 1 || body.last == 10) { output.append(10) }
        }
        return output
    }

    private static func hex(_ byte: UInt8?) -> UInt8? {
        guard let byte else { return nil }
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }
}

extension ArraySlice where Element == UInt8 {
    subscript(safe index: Int) -> UInt8? {
        index >= startIndex && index < endIndex ? self[index] : nil
    }
}
