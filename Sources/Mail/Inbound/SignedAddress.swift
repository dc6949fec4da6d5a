import COpenSSL
import Foundation

/// The secret that signs our return addresses, read from a file, with the one it replaced
/// while a rotation is under way.
public struct InboundSecret: Sendable {
    let current: [UInt8]
    let previous: [UInt8]?

    public init(current: [UInt8], previous: [UInt8]? = nil) throws(MailConfigurationError) {
        guard current.count >= 16 else { throw MailConfigurationError("the inbound secret must be at least 16 octets") }
        if let previous, previous.count < 16 { throw MailConfigurationError("the previous inbound secret must be at least 16 octets") }
        self.current = current
        self.previous = previous
    }

    /// Reads the secret files (surrounding white space, such as a final newline, is not part of
    /// the secret). The error names the file, never its content.
    public static func load(path: String, previousPath: String?) throws(MailConfigurationError) -> InboundSecret {
        func read(_ path: String) throws(MailConfigurationError) -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MailConfigurationError("cannot read the inbound secret file \(path)")
            }
            var bytes = [UInt8](data)[...]
            while let last = bytes.last, last == 10 || last == 13 || last == 32 || last == 9 { bytes = bytes.dropLast() }
            while let first = bytes.first, first == 10 || first == 13 || first == 32 || first == 9 { bytes = bytes.dropFirst() }
            guard bytes.count >= 16 else {
                throw MailConfigurationError("the inbound secret file \(path) holds fewer than 16 octets (make one with: openssl rand -hex 32)")
            }
            return Array(bytes)
        }
        return try InboundSecret(current: read(path), previous: previousPath.map(read))
    }
}

/// Addresses that carry their meaning (VERP): `bounces+<notification>-<tag>@domain` as the
/// return path, `reply+<reference>-<tag>@domain` as a department email's Reply-To,
/// `unsubscribe+<notification>-<tag>@domain` in a citizen email's List-Unsubscribe.
///
/// The tag is HMAC-SHA256 over the kind and the value, truncated to 80 bits and written in
/// lower-case base32, so it survives MTAs that fold the local part's case. Without the secret,
/// nobody can make an address that moves a complaint or suppresses someone else's address.
public struct InboundAddressing: Sendable {
    /// What mail to the address does: a bounce, a citizen's reply, or an unsubscribe.
    public enum Kind: String, Sendable, CaseIterable {
        case bounce, reply, unsubscribe
    }

    /// What an envelope recipient turned out to be.
    public enum Verification: Sendable, Equatable {
        /// Signed by the current secret (or the previous one during a rotation).
        case valid(Kind, value: String, previousSecret: Bool)
        /// Looks like ours but the tag or the value is wrong: forged, altered or from an expired secret.
        case invalid(Kind, reason: String)
        /// Not one of our signed addresses.
        case none
    }

    public let secret: InboundSecret
    public let domain: String
    public let delimiter: String
    public let localParts: [Kind: String]

    static let tagBytes = 10

    public init(secret: InboundSecret, domain: String, delimiter: String = "+",
                localParts: [Kind: String] = [.bounce: "bounces", .reply: "reply", .unsubscribe: "unsubscribe"]) {
        self.secret = secret
        self.domain = domain.lowercased()
        self.delimiter = delimiter
        self.localParts = localParts
    }

    /// The signed address for a notification id (bounce, unsubscribe) or a reference (reply).
    public func address(_ kind: Kind, value: String) -> String {
        let canonical = Self.canonical(kind, value)
        return "\(localParts[kind] ?? kind.rawValue)\(delimiter)\(canonical)-\(Self.tag(kind, canonical, key: secret.current))@\(domain)"
    }

    public func verify(_ address: String) -> Verification {
        let trimmed = address.trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
        guard let at = trimmed.lastIndex(of: "@") else { return .none }
        let local = trimmed[..<at]
        let addressDomain = trimmed[trimmed.index(after: at)...].lowercased()
        guard addressDomain == domain, let split = local.range(of: delimiter) else { return .none }
        let prefix = local[..<split.lowerBound].lowercased()
        guard let kind = Kind.allCases.first(where: { (localParts[$0] ?? $0.rawValue).lowercased() == prefix }) else { return .none }
        let extensionPart = local[split.upperBound...]
        guard let dash = extensionPart.lastIndex(of: "-") else { return .invalid(kind, reason: "no tag") }
        let value = Self.canonical(kind, String(extensionPart[..<dash]))
        let tag = extensionPart[extensionPart.index(after: dash)...].lowercased()
        guard Self.isWellFormed(kind, value) else { return .invalid(kind, reason: "malformed value") }
        if Self.equal(tag, Self.tag(kind, value, key: secret.current)) {
            return .valid(kind, value: value, previousSecret: false)
        }
        if let previous = secret.previous, Self.equal(tag, Self.tag(kind, value, key: previous)) {
            return .valid(kind, value: value, previousSecret: true)
        }
        return .invalid(kind, reason: "tag does not match")
    }

    /// References are upper case (`CC-2026-000042`); MTAs may hand them to us in lower case.
    private static func canonical(_ kind: Kind, _ value: String) -> String {
        kind == .reply ? value.uppercased() : value
    }

    private static func isWellFormed(_ kind: Kind, _ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 40 else { return false }
        switch kind {
        case .bounce, .unsubscribe: return value.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } && Int64(value) != nil
        case .reply: return value.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || $0 == UInt8(ascii: "-") }
        }
    }

    static func tag(_ kind: Kind, _ value: String, key: [UInt8]) -> String {
        // The kind is part of what is signed: a bounce tag cannot be replayed as an unsubscribe.
        let message = Array("chikaya-inbound-v1\u{0}\(kind.rawValue)\u{0}\(value)".utf8)
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = key.withUnsafeBytes { keyBuffer in
            message.withUnsafeBufferPointer { messageBuffer in
                HMAC(EVP_sha256(), keyBuffer.baseAddress, Int32(key.count), messageBuffer.baseAddress, messageBuffer.count,
                     &digest, &length)
            }
        }
        // HMAC only fails when out of memory; an empty tag then matches nothing.
        guard ok != nil, length >= UInt32(tagBytes) else { return "" }
        return base32(Array(digest.prefix(tagBytes)))
    }

    private static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var output = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return output
    }

    /// Compares in constant time, so response timing tells a forger nothing about the tag.
    private static func equal(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        guard a.count == b.count, !b.isEmpty else { return false }
        return CRYPTO_memcmp(a, b, a.count) == 0
    }
}
