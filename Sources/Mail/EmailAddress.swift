/// Validation of a bare address (`local@domain`, RFC 5321 §4.1.2 and RFC 6531 for UTF-8).
/// Strict on purpose: an address we reject is never sent, and the caller marks it failed for good.
public enum EmailAddress {
    private static let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    public static func validate(_ address: String) throws(MIMEError) {
        func invalid(_ reason: String) -> MIMEError { .invalidAddress(address, reason: reason) }
        guard !address.isEmpty else { throw invalid("empty") }
        guard address.utf8.count <= 254 else { throw invalid("longer than 254 octets") }
        guard !address.unicodeScalars.contains(where: { $0.value < 33 || $0.value == 127 || (0x80...0x9F).contains($0.value) }) else {
            throw invalid("contains a space or control character")
        }
        guard let at = address.lastIndex(of: "@") else { throw invalid("no @") }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64 else { throw invalid("the part before @ must be 1 to 64 octets") }
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
            throw invalid("misplaced dot before @")
        }
        for byte in local.utf8 where byte < 128 {
            let isAlnum = (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
            guard isAlnum || byte == UInt8(ascii: ".") || atextSymbols.contains(byte) else {
                throw invalid("character '\(Character(Unicode.Scalar(byte)))' not allowed before @")
            }
        }
        guard !domain.isEmpty, domain.utf8.count <= 253 else { throw invalid("the domain must be 1 to 253 octets") }
        for label in domain.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else { throw invalid("empty or over-long domain label") }
            guard !label.hasPrefix("-"), !label.hasSuffix("-") else { throw invalid("domain label starts or ends with '-'") }
            for byte in label.utf8 where byte < 128 {
                let isAlnum = (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
                guard isAlnum || byte == UInt8(ascii: "-") else {
                    throw invalid("character '\(Character(Unicode.Scalar(byte)))' not allowed in the domain")
                }
            }
        }
    }

    /// True when the address needs the SMTPUTF8 extension to be carried.
    public static func requiresSMTPUTF8(_ address: String) -> Bool {
        address.utf8.contains { $0 >= 128 }
    }
}
