/// Validation of a bare address (`local@domain`, RFC 5321 §4.1.2 and RFC 6531 for UTF-8).
/// Strict on purpose: an address we reject is never sent, and the caller marks it failed for good.
public enum EmailAddress {
    private static let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    public static func validate(_ address: String) throws(MIMEError) {
        var copy = address
        // Over the UTF-8 bytes in one buffer: scalar by scalar with Substring splits, this was
        // an eighth of `mail send-test`'s instructions.
        let failure: String? = copy.withUTF8 { bytes in check(bytes) }
        if let failure { throw .invalidAddress(address, reason: failure) }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }

    /// The reason `bytes` is not a valid address, nil when it is.
    private static func check(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard !bytes.isEmpty else { return "empty" }
        guard bytes.count <= 254 else { return "longer than 254 octets" }
        var at = -1
        for (index, byte) in bytes.enumerated() {
            // C0 controls, space, DEL, and the C1 controls U+0080...U+009F (C2 80...C2 9F).
            if byte < 33 || byte == 127 || (byte == 0xC2 && index + 1 < bytes.count && (0x80...0x9F).contains(bytes[index + 1])) {
                return "contains a space or control character"
            }
            if byte == UInt8(ascii: "@") { at = index }
        }
        guard at >= 0 else { return "no @" }
        let local = UnsafeBufferPointer(rebasing: bytes[..<at])
        let domain = UnsafeBufferPointer(rebasing: bytes[(at + 1)...])
        guard !local.isEmpty, local.count <= 64 else { return "the part before @ must be 1 to 64 octets" }
        let dot = UInt8(ascii: ".")
        guard local.first != dot, local.last != dot else { return "misplaced dot before @" }
        for index in 1..<local.count where local[index] == dot && local[index - 1] == dot {
            return "misplaced dot before @"
        }
        for byte in local where byte < 128 {
            guard isAlphanumeric(byte) || byte == dot || atextSymbols.contains(byte) else {
                return "character '\(Character(Unicode.Scalar(byte)))' not allowed before @"
            }
        }
        guard !domain.isEmpty, domain.count <= 253 else { return "the domain must be 1 to 253 octets" }
        var labelStart = 0
        while true {
            var labelEnd = labelStart
            while labelEnd < domain.count && domain[labelEnd] != dot { labelEnd += 1 }
            let label = UnsafeBufferPointer(rebasing: domain[labelStart..<labelEnd])
            guard !label.isEmpty, label.count <= 63 else { return "empty or over-long domain label" }
            let dash = UInt8(ascii: "-")
            guard label.first != dash, label.last != dash else { return "domain label starts or ends with '-'" }
            for byte in label where byte < 128 {
                guard isAlphanumeric(byte) || byte == dash else {
                    return "character '\(Character(Unicode.Scalar(byte)))' not allowed in the domain"
                }
            }
            if labelEnd == domain.count { break }
            labelStart = labelEnd + 1
        }
        return nil
    }

    /// True when the address needs the SMTPUTF8 extension to be carried.
    public static func requiresSMTPUTF8(_ address: String) -> Bool {
        address.utf8.contains { $0 >= 128 }
    }
}
