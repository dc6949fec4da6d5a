import Foundation

/// Bounds on what one inbound message may cost. A message past any of them is refused as a
/// whole (the MTA gets exit 65), so a hostile message never costs unbounded memory or time.
public struct MIMELimits: Sendable {
    /// Size of the raw message in octets.
    public var maxBytes: Int
    /// Nesting of multiparts and attached messages under the top level.
    public var maxDepth: Int
    /// Parts in the whole tree, counting every multipart, leaf and attached message.
    public var maxParts: Int
    /// Header fields of one part.
    public var maxHeaderFields: Int

    public init(maxBytes: Int = 10 * 1024 * 1024, maxDepth: Int = 8, maxParts: Int = 200, maxHeaderFields: Int = 500) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxParts = maxParts
        self.maxHeaderFields = maxHeaderFields
    }
}

/// Why an inbound message was refused; each case is permanent for that message.
public enum MIMEParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(bytes: Int, limit: Int)
    case tooDeep(limit: Int)
    case tooManyParts(limit: Int)
    case tooManyHeaderFields(limit: Int)
    case empty

    public var description: String {
        switch self {
        case .tooLarge(let bytes, let limit): "message of \(bytes) octets is over the limit of \(limit)"
        case .tooDeep(let limit): "parts nested deeper than \(limit) levels"
        case .tooManyParts(let limit): "more than \(limit) MIME parts"
        case .tooManyHeaderFields(let limit): "a part has more than \(limit) header fields"
        case .empty: "empty message"
        }
    }
}

/// The header block of a message or part, in order, folded lines joined (RFC 5322 §2.2.3).
public struct MIMEHeaders: Sendable {
    /// Raw values (encoded-words left as they are), names as written.
    public let fields: [(name: String, value: String)]

    public init(fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    /// The first field of that name (case-insensitive), raw and trimmed.
    public subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map { $0.value.trimmingCharacters(in: .whitespaces) }
    }

    public func all(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map { $0.value.trimmingCharacters(in: .whitespaces) }
    }

    /// The first field of that name with its RFC 2047 encoded-words decoded.
    public func decoded(_ name: String) -> String? {
        self[name].map(EncodedWordDecoder.decode)
    }
}

/// A Content-Type value: `type/subtype` lower-cased and its parameters (names lower-cased).
public struct ContentType: Sendable, Equatable {
    public let type: String
    public let subtype: String
    public let parameters: [String: String]

    public var mimeType: String { "\(type)/\(subtype)" }

    /// RFC 2045 §5.2: a part without Content-Type (or with one we cannot read) is text/plain.
    public static let plainText = ContentType(type: "text", subtype: "plain", parameters: [:])

    public init(type: String, subtype: String, parameters: [String: String]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public init(parsing value: String?, default fallback: ContentType = .plainText) {
        guard let value else { self = fallback; return }
        let (head, parameters) = HeaderParameters.split(value)
        let pieces = head.lowercased().split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else { self = fallback; return }
        self.init(type: pieces[0], subtype: pieces[1], parameters: parameters)
    }
}

/// `value; name=token; name="quoted"; name*=charset''percent` (RFC 2045 §5.1, RFC 2231 §4).
enum HeaderParameters {
    static func split(_ value: String) -> (String, [String: String]) {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in value {
            if escaped { current.append(character); escaped = false; continue }
            if quoted && character == "\\" { escaped = true; continue }
            if character == "\"" { quoted.toggle(); continue }
            if character == ";" && !quoted { pieces.append(current); current = ""; continue }
            current.append(character)
        }
        pieces.append(current)
        var parameters: [String: String] = [:]
        var continued: [String: [(Int, String)]] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var text = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if name.hasSuffix("*") {
                name.removeLast()
                text = extendedValue(text)
            }
            // RFC 2231 continuations: name*0, name*1, ...
            if let star = name.lastIndex(of: "*"), let index = Int(name[name.index(after: star)...]) {
                continued[String(name[..<star]), default: []].append((index, text))
                continue
            }
            parameters[name] = text
        }
        for (name, pieces) in continued where parameters[name] == nil {
            parameters[name] = pieces.sorted { $0.0 < $1.0 }.map(\.1).joined()
        }
        return (pieces[0].trimmingCharacters(in: .whitespaces), parameters)
    }

    /// `utf-8'fr'caf%C3%A9` → "café"; a value without the two quotes is only percent-decoded.
    private static func extendedValue(_ text: String) -> String {
        let parts = text.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        let charset = parts.count == 3 ? String(parts[0]) : nil
        let encoded = parts.count == 3 ? String(parts[2]) : text
        var bytes: [UInt8] = []
        var utf8 = Array(encoded.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return Charset.decodeGuessing(bytes, declared: charset)
    }
}

/// One node of a parsed message: its headers, its decoded body (Content-Transfer-Encoding
/// undone; still in its charset), its sub-parts when multipart, and the message it carries when
/// it is message/rfc822.
public final class MIMEPart: Sendable {
    public let headers: MIMEHeaders
    public let contentType: ContentType
    /// Octets after undoing base64 or quoted-printable; line ends are LF.
    public let body: [UInt8]
    public let parts: [MIMEPart]
    /// The attached message of a message/rfc822 (or message/global) part.
    public let message: MIMEPart?

    init(headers: MIMEHeaders, contentType: ContentType, body: [UInt8], parts: [MIMEPart], message: MIMEPart?) {
        self.headers = headers
        self.contentType = contentType
        self.body = body
        self.parts = parts
        self.message = message
    }

    public var isAttachment: Bool {
        headers["Content-Disposition"].map { HeaderParameters.split($0).0.lowercased() == "attachment" } ?? false
    }

    /// The body as text in its declared charset (UTF-8, then windows-1252, when absent or unknown).
    public var text: String {
        Charset.decodeGuessing(body, declared: contentType.parameters["charset"])
    }

    /// Every part of the tree, depth first, this one included (attached messages included).
    public var allParts: [MIMEPart] {
        var result: [MIMEPart] = [self]
        for part in parts { result += part.allParts }
        if let message { result += message.allParts }
        return result
    }

    /// What a person wrote: the first text/plain that is not an attachment; else the first
    /// HTML body turned into text. Attached messages are not looked into (a forwarded message or
    /// a bounce's returned copy is not the author's text).
    public var bodyText: String? {
        if let plain = firstInline("plain") { return plain.text }
        if let html = firstInline("html") { return HTMLText.plain(html.text) }
        return nil
    }

    private func firstInline(_ subtype: String) -> MIMEPart? {
        if contentType.type == "multipart" {
            for part in parts {
                if let found = part.firstInline(subtype) { return found }
            }
            return nil
        }
        guard !isAttachment, contentType.type == "text", contentType.subtype == subtype else { return nil }
        return self
    }
}
