import Foundation

/// An address with an optional display name, as it appears in From, To and Reply-To.
public struct MailboxAddress: Sendable, Equatable {
    public var name: String?
    public var address: String

    public init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }

    /// Parses `Name <address>` or a bare address.
    public static func parse(_ text: String) -> MailboxAddress {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), trimmed.hasSuffix(">") {
            let name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
            let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            return MailboxAddress(address, name: name.isEmpty ? nil : name)
        }
        return MailboxAddress(trimmed)
    }

    /// The right-hand side of the Message-IDs written for mail from this address: its domain
    /// (after the last "@"), or `chikaya.invalid` for an address without one.
    public var messageIDDomain: String {
        address.split(separator: "@").last.map(String.init) ?? "chikaya.invalid"
    }

    /// Header tokens: the name (quoted, or as encoded-words when not ASCII) then `<address>`.
    func headerTokens(field: String, firstMaxLength: Int) throws(MIMEError) -> [String] {
        try HeaderValue.check(address, field: field)
        try EmailAddress.validate(address)
        guard let name, !HeaderFolder.words(name).isEmpty else { return [address] }
        try HeaderValue.check(name, field: field)
        if EncodedWord.needsEncoding(name) {
            return EncodedWord.encode(name, firstMaxLength: firstMaxLength) + ["<\(address)>"]
        }
        // Byte by byte: every special is ASCII (Foundation's replacingOccurrences went through
        // CFString for every message the notifier built).
        let specials = Array("()<>[]:;@\\,.\"".utf8)
        if name.utf8.contains(where: { specials.contains($0) }) {
            var escaped: [UInt8] = []
            escaped.reserveCapacity(name.utf8.count + 8)
            for byte in name.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { escaped.append(UInt8(ascii: "\\")) }
                escaped.append(byte)
            }
            return ["\"\(String(decoding: escaped, as: UTF8.self))\"", "<\(address)>"]
        }
        return HeaderFolder.words(name) + ["<\(address)>"]
    }
}

/// The one gate every header value passes: a CR or LF would start a new header (or end the
/// header block), so it is refused outright instead of being cleaned up silently.
enum HeaderValue {
    static func check(_ value: String, field: String) throws(MIMEError) {
        if value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) {
            throw .headerInjection(field: field)
        }
    }
}
