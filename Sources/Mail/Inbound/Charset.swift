import Foundation

/// The character sets inbound mail arrives in, decoded to Swift strings. Arabic mail clients still
/// send windows-1256 and ISO-8859-6; French ones ISO-8859-1/15 and windows-1252. Tables are ours
/// (Foundation on Linux knows neither Arabic code page); bytes a table leaves undefined become
/// U+FFFD instead of failing the whole message.
public enum Charset: Sendable, Equatable {
    case utf8
    case ascii
    case latin1
    case latin9
    case windows1252
    case windows1256
    case iso88596

    /// The charset of a MIME `charset` parameter or RFC 2047 word, by its IANA names and aliases;
    /// nil for one we do not know (the caller then decodes as UTF-8, then Latin-1).
    public init?(name: String) {
        var key = name.lowercased().trimmingCharacters(in: .whitespaces)
        if let star = key.firstIndex(of: "*") { key = String(key[..<star]) }  // RFC 2231 language suffix
        key = key.replacingOccurrences(of: "_", with: "-")
        switch key {
        case "utf-8", "utf8": self = .utf8
        case "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us": self = .ascii
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso-ir-100", "cp819": self = .latin1
        case "iso-8859-15", "iso8859-15", "latin9", "latin-9": self = .latin9
        case "windows-1252", "cp1252", "x-cp1252": self = .windows1252
        case "windows-1256", "cp1256", "x-cp1256": self = .windows1256
        case "iso-8859-6", "iso8859-6", "arabic", "asmo-708", "iso-8859-6-i", "iso-8859-6-e", "iso-ir-127", "ecma-114":
            self = .iso88596
        default: return nil
        }
    }

    /// Decodes `bytes`; never fails: undefined or malformed bytes become U+FFFD.
    public func decode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        switch self {
        case .utf8, .ascii:
            return String(decoding: bytes, as: UTF8.self)
        case .latin1:
            return Self.mapped(bytes) { Unicode.Scalar($0) }
        case .latin9:
            return Self.mapped(bytes) { Self.latin9Differences[$0] ?? Unicode.Scalar($0) }
        case .windows1252:
            return Self.mapped(bytes) { byte in
                (0x80...0x9F).contains(byte) ? Self.scalar(Self.windows1252High[Int(byte - 0x80)]) : Unicode.Scalar(byte)
            }
        case .windows1256:
            return Self.mapped(bytes) { Self.scalar(Self.windows1256High[Int($0 - 0x80)]) }
        case .iso88596:
            return Self.mapped(bytes) { Self.iso88596($0) }
        }
    }

    /// Decodes text whose charset is unknown or absent: UTF-8 when it is valid UTF-8 (most
    /// clients), else windows-1252 (a superset of Latin-1 for printable text).
    public static func decodeGuessing<C: Collection>(_ bytes: C, declared: String?) -> String where C.Element == UInt8 {
        if let declared, let charset = Charset(name: declared) {
            if charset == .utf8 || charset == .ascii, String(validating: Array(bytes), as: UTF8.self) == nil {
                return Charset.windows1252.decode(bytes)
            }
            return charset.decode(bytes)
        }
        if let text = String(validating: Array(bytes), as: UTF8.self) { return text }
        return Charset.windows1252.decode(bytes)
    }

    private static func mapped<C: Collection>(_ bytes: C, high: (UInt8) -> Unicode.Scalar) -> String where C.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            scalars.append(byte < 0x80 ? Unicode.Scalar(byte) : high(byte))
        }
        return String(scalars)
    }

    private static func scalar(_ value: UInt16) -> Unicode.Scalar {
        Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    /// ISO-8859-6: Arabic letters in two runs, a few punctuation marks; the rest of the upper half
    /// is unassigned except the C1 controls and NBSP, currency sign and soft hyphen.
    private static func iso88596(_ byte: UInt8) -> Unicode.Scalar {
        switch byte {
        case 0x80...0xA0, 0xA4, 0xAD: Unicode.Scalar(byte)
        case 0xAC: "\u{060C}"
        case 0xBB: "\u{061B}"
        case 0xBF: "\u{061F}"
        case 0xC1...0xDA: scalar(0x0621 + UInt16(byte - 0xC1))
        case 0xE0...0xF2: scalar(0x0640 + UInt16(byte - 0xE0))
        default: "\u{FFFD}"
        }
    }

    /// Where ISO-8859-15 differs from ISO-8859-1 (the euro sign and the letters it added).
    private static let latin9Differences: [UInt8: Unicode.Scalar] = [
        0xA4: "\u{20AC}", 0xA6: "\u{0160}", 0xA8: "\u{0161}", 0xB4: "\u{017D}",
        0xB8: "\u{017E}", 0xBC: "\u{0152}", 0xBD: "\u{0153}", 0xBE: "\u{0178}",
    ]

    /// windows-1252 0x80...0x9F (the rest is Latin-1); 0xFFFD where the code page has a hole.
    private static let windows1252High: [UInt16] = [
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
        0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
    ]

    /// windows-1256 0x80...0xFF.
    private static let windows1256High: [UInt16] = [
        0x20AC, 0x067E, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0679, 0x2039, 0x0152, 0x0686, 0x0698, 0x0688,
        0x06AF, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x06A9, 0x2122, 0x0691, 0x203A, 0x0153, 0x200C, 0x200D, 0x06BA,
        0x00A0, 0x060C, 0x00A2, 0x00A3, 0x00A4, 0x00A5, 0x00A6, 0x00A7, 0x00A8, 0x00A9, 0x06BE, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x00AF,
        0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7, 0x00B8, 0x00B9, 0x061B, 0x00BB, 0x00BC, 0x00BD, 0x00BE, 0x061F,
        0x06C1, 0x0621, 0x0622, 0x0623, 0x0624, 0x0625, 0x0626, 0x0627, 0x0628, 0x0629, 0x062A, 0x062B, 0x062C, 0x062D, 0x062E, 0x062F,
        0x0630, 0x0631, 0x0632, 0x0633, 0x0634, 0x0635, 0x0636, 0x00D7, 0x0637, 0x0638, 0x0639, 0x063A, 0x0640, 0x0641, 0x0642, 0x0643,
        0x00E0, 0x0644, 0x00E2, 0x0645, 0x0646, 0x0647, 0x0648, 0x00E7, 0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x0649, 0x064A, 0x00EE, 0x00EF,
        0x064B, 0x064C, 0x064D, 0x064E, 0x00F4, 0x064F, 0x0650, 0x00F7, 0x0651, 0x00F9, 0x0652, 0x00FB, 0x00FC, 0x200E, 0x200F, 0x06D2,
    ]
}
