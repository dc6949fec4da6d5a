import Foundation

/// What one input scalar becomes before tokenisation: a separator, nothing, or one or two
/// normalised scalars of a script.
///
/// Built once into a table for U+0000–U+07FF (Latin, Latin-1, Arabic), so the hot path pays one
/// array read per scalar; everything above goes through `slowFold`, which is rare in complaints.
enum ScalarKind: UInt8 {
    case separator = 0
    case drop = 1
    case latin = 2
    case arabic = 3
    case digit = 4
    case apostrophe = 5
}

struct FoldedScalar {
    var kind: ScalarKind
    var first: UInt32
    var second: UInt32  // 0 when the scalar folds to one scalar (œ -> o e needs two)
}

enum ScalarFolding {
    static let tableLimit: UInt32 = 0x800

    /// Packed: kind in bits 48..55, second scalar in bits 24..47, first in bits 0..23.
    static let table: [UInt64] = {
        var t = [UInt64](repeating: 0, count: Int(tableLimit))
        for v in 0..<tableLimit {
            let f = computeFold(v)
            t[Int(v)] = UInt64(f.kind.rawValue) << 48 | UInt64(f.second) << 24 | UInt64(f.first)
        }
        return t
    }()

    @inline(__always)
    static func fold(_ v: UInt32) -> FoldedScalar {
        if v < tableLimit {
            let e = table[Int(v)]
            return FoldedScalar(kind: ScalarKind(rawValue: UInt8(truncatingIfNeeded: e >> 48)) ?? .separator,
                                first: UInt32(truncatingIfNeeded: e & 0xFFFFFF),
                                second: UInt32(truncatingIfNeeded: (e >> 24) & 0xFFFFFF))
        }
        return slowFold(v)
    }

    static func slowFold(_ v: UInt32) -> FoldedScalar {
        switch v {
        case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2069, 0xFEFF, 0x180E:
            // Invisible format characters: bidi controls and zero-width joiners split nothing.
            return FoldedScalar(kind: .drop, first: 0, second: 0)
        case 0x2018, 0x2019, 0x2032:
            return FoldedScalar(kind: .apostrophe, first: 0x27, second: 0)
        case 0x08D3...0x08FF:
            return FoldedScalar(kind: .drop, first: 0, second: 0)  // Arabic Extended-A marks
        case 0x08A0...0x08D2:
            return FoldedScalar(kind: .arabic, first: v, second: 0)
        default:
            break
        }
        guard let scalar = Unicode.Scalar(v) else { return FoldedScalar(kind: .separator, first: 0, second: 0) }
        // Presentation forms, fullwidth letters, ligatures: NFKC, then fold what comes out.
        let nfkc = String(scalar).precomposedStringWithCompatibilityMapping.unicodeScalars
        if nfkc.count >= 1, nfkc.first?.value != v {
            var parts: [FoldedScalar] = []
            for s in nfkc where s.value < tableLimit {
                let f = fold(s.value)
                if f.kind != .drop && f.kind != .separator { parts.append(f) }
            }
            if parts.count == 1 { return parts[0] }
            if parts.count == 2, parts[0].second == 0, parts[1].second == 0, parts[0].kind == parts[1].kind {
                return FoldedScalar(kind: parts[0].kind, first: parts[0].first, second: parts[1].first)
            }
            if let first = parts.first { return first }
        }
        let props = scalar.properties
        if props.numericType == .decimal, let n = props.numericValue, n >= 0, n <= 9 {
            return FoldedScalar(kind: .digit, first: 0x30 + UInt32(n), second: 0)
        }
        if props.isAlphabetic {
            let lower = props.lowercaseMapping.unicodeScalars.first?.value ?? v
            return FoldedScalar(kind: .latin, first: lower, second: 0)
        }
        return FoldedScalar(kind: .separator, first: 0, second: 0)
    }

    private static func computeFold(_ v: UInt32) -> FoldedScalar {
        let sep = FoldedScalar(kind: .separator, first: 0, second: 0)
        let drop = FoldedScalar(kind: .drop, first: 0, second: 0)
        func arabic(_ u: UInt32) -> FoldedScalar { FoldedScalar(kind: .arabic, first: u, second: 0) }
        func latin(_ a: Character, _ b: Character? = nil) -> FoldedScalar {
            FoldedScalar(kind: .latin, first: a.unicodeScalars.first!.value, second: b?.unicodeScalars.first!.value ?? 0)
        }
        switch v {
        case 0x30...0x39: return FoldedScalar(kind: .digit, first: v, second: 0)
        case 0x41...0x5A: return FoldedScalar(kind: .latin, first: v + 0x20, second: 0)
        case 0x61...0x7A: return FoldedScalar(kind: .latin, first: v, second: 0)
        case 0x27, 0x2BC: return FoldedScalar(kind: .apostrophe, first: 0x27, second: 0)
        case 0x00AD: return drop  // soft hyphen
        case 0x0300...0x036F: return drop  // combining accents: folded away like precomposed ones
        case 0x0153, 0x0152: return latin("o", "e")
        case 0x00E6, 0x00C6: return latin("a", "e")
        case 0x00DF: return latin("s", "s")
        case 0x00F8, 0x00D8: return latin("o")
        case 0x0111, 0x0110: return latin("d")
        case 0x0142, 0x0141: return latin("l")
        // Arabic: letters folded to one spelling, marks dropped.
        case 0x0640, 0x064B...0x0652, 0x0653...0x065F, 0x0670, 0x0610...0x061A, 0x06D6...0x06ED:
            return drop
        case 0x0660...0x0669: return FoldedScalar(kind: .digit, first: 0x30 + v - 0x0660, second: 0)
        case 0x06F0...0x06F9: return FoldedScalar(kind: .digit, first: 0x30 + v - 0x06F0, second: 0)
        case 0x0622, 0x0623, 0x0625, 0x0671, 0x0672, 0x0673: return arabic(0x0627)
        case 0x0649, 0x0626, 0x06CC, 0x06D0, 0x06D2: return arabic(0x064A)
        case 0x0629, 0x06C0, 0x06C1, 0x06D5: return arabic(0x0647)
        case 0x0624: return arabic(0x0648)
        case 0x06A9: return arabic(0x0643)
        case 0x06AD, 0x06AF, 0x0763, 0x06A8: return arabic(0x06AD)  // Moroccan g: ڭ گ ݣ ڨ
        case 0x0621...0x063A, 0x0641...0x064A, 0x0671...0x06D3, 0x06EE, 0x06EF, 0x06FA...0x06FF, 0x0750...0x077F:
            return arabic(v)
        case 0x0600...0x06FF: return sep  // Arabic punctuation and signs
        default: break
        }
        guard v >= 0x80, let scalar = Unicode.Scalar(v) else { return sep }
        let props = scalar.properties
        if props.isAlphabetic {
            let lower = props.lowercaseMapping
            // Accents fold away: the base letter of the canonical decomposition.
            if let base = lower.decomposedStringWithCanonicalMapping.unicodeScalars.first, base.value < 0x80 {
                return FoldedScalar(kind: .latin, first: base.value, second: 0)
            }
            let nfkc = String(scalar).precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars
            if let first = nfkc.first, first.value < 0x80, first.properties.isAlphabetic {
                return FoldedScalar(kind: .latin, first: first.value, second: 0)
            }
            return FoldedScalar(kind: .latin, first: lower.unicodeScalars.first?.value ?? v, second: 0)
        }
        // Superscript digits and the like: NFKC gives an ASCII digit.
        let nfkc = String(scalar).precomposedStringWithCompatibilityMapping.unicodeScalars
        if nfkc.count == 1, let d = nfkc.first, (0x30...0x39).contains(d.value) {
            return FoldedScalar(kind: .digit, first: d.value, second: 0)
        }
        return sep
    }
}
