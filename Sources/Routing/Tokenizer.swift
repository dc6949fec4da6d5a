/// Turns UTF-8 text into normalised tokens (the pipeline of docs/routing-rules.md), reusing its
/// buffers between calls so that the hot path allocates nothing per token.
///
/// Applied the same way to complaint text and to rule keywords, so that both meet.
struct Tokenizer {
    var scalars: [UInt32] = []
    var tokens: [Token] = []

    /// ḥ: the letter Arabizi writes 7; the skeleton turns it into h.
    static let arabiziH: UInt32 = 0x1E25
    /// ḡ: the letter Arabizi writes 8, used for ه by some writers and for غ by others
    /// (l8soun = الغصون); skeletons try it both ways.
    static let arabiziEight: UInt32 = 0x1E21

    init() {
        scalars.reserveCapacity(512)
        tokens.reserveCapacity(64)
    }

    mutating func tokenize(_ text: String) {
        var copy = text
        copy.withUTF8 { tokenize(utf8: $0) }
    }

    mutating func tokenize(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        scalars.removeAll(keepingCapacity: true)
        tokens.removeAll(keepingCapacity: true)
        var open = false
        var current = Token(utf8Start: 0, utf8End: 0, normStart: 0, normEnd: 0, script: .digits)
        var hasArabic = false, hasLatin = false

        var i = 0
        let n = bytes.count
        while i < n {
            let start = i
            let b0 = UInt32(bytes[i])
            var v: UInt32
            if b0 < 0x80 {
                v = b0; i += 1
            } else if b0 < 0xE0, i + 1 < n {
                v = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F); i += 2
            } else if b0 < 0xF0, i + 2 < n {
                v = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F); i += 3
            } else if i + 3 < n {
                v = (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                    | UInt32(bytes[i + 3] & 0x3F); i += 4
            } else {
                v = 0xFFFD; i += 1
            }
            let f = ScalarFolding.fold(v)
            switch f.kind {
            case .drop:
                continue
            case .separator, .apostrophe:
                if open {
                    finish(&current, hasArabic: hasArabic, hasLatin: hasLatin, beforeApostrophe: f.kind == .apostrophe)
                    open = false
                }
                continue
            case .latin, .digit, .arabic:
                let isArabic = f.kind == .arabic
                // Arabic letters touching Latin letters or digits start a new token.
                if open && (isArabic ? (hasLatin || current.script == .digits) : hasArabic) {
                    finish(&current, hasArabic: hasArabic, hasLatin: hasLatin, beforeApostrophe: false)
                    open = false
                }
                if !open {
                    open = true
                    hasArabic = false; hasLatin = false
                    current = Token(utf8Start: Int32(start), utf8End: Int32(i), normStart: Int32(scalars.count),
                                    normEnd: 0, script: .digits)
                }
                if isArabic { hasArabic = true; current.script = .arabic }
                if f.kind == .latin { hasLatin = true; current.script = .latin }
                current.utf8End = Int32(i)
                scalars.append(f.first)
                if f.second != 0 { scalars.append(f.second) }
            }
        }
        if open { finish(&current, hasArabic: hasArabic, hasLatin: hasLatin, beforeApostrophe: false) }
    }

    private mutating func finish(_ token: inout Token, hasArabic: Bool, hasLatin: Bool, beforeApostrophe: Bool) {
        let s = Int(token.normStart)
        collapseRuns(from: s)
        if token.script == .latin {
            if beforeApostrophe && Tokenizer.isElision(scalars[s...]) {
                scalars.removeSubrange(s...)
                return
            }
            mapArabiziDigits(from: s)
            token.fold = pluralFold(from: s)
        }
        token.normEnd = Int32(scalars.count)
        if token.normEnd > token.normStart { tokens.append(token) }
    }

    /// A letter written three or more times in a row (ضوووو, bzzzaf) counts once.
    private mutating func collapseRuns(from s: Int) {
        var w = s
        var r = s
        let end = scalars.count
        while r < end {
            let c = scalars[r]
            var run = r + 1
            while run < end && scalars[run] == c { run += 1 }
            let length = run - r
            let isDigit = c >= 0x30 && c <= 0x39
            let keep = (length >= 3 && !isDigit) ? 1 : length
            for _ in 0..<keep { scalars[w] = c; w += 1 }
            r = run
        }
        scalars.removeSubrange(w..<end)
    }

    /// In Arabizi, digits inside words stand for Arabic letters; "3 jours" and "n°7" are
    /// separate digit tokens and never get here. Two letters at least, so "t2" or "3h" stay, or
    /// one letter between digits.
    private mutating func mapArabiziDigits(from s: Int) {
        var letters = 0, digits = 0
        for k in s..<scalars.count {
            let c = scalars[k]
            if c >= 0x30 && c <= 0x39 { digits += 1 } else { letters += 1 }
        }
        // One letter is enough between digits (7m9, 3n9): no number or unit is written that way.
        let isDigit = { (c: UInt32) in c >= 0x30 && c <= 0x39 }
        guard digits > 0, letters >= 2 || (letters == 1 && isDigit(scalars[s]) && isDigit(scalars[scalars.count - 1])) else { return }
        var out: [UInt32] = []
        out.reserveCapacity(scalars.count - s + 2)
        for k in s..<scalars.count {
            switch scalars[k] {
            // 7 ح becomes ḥ (U+1E25), not h: "s7i7" must not read as "sh".
            case 0x37: out.append(Tokenizer.arabiziH)
            // 8 is ه or غ: its own letter ḡ (U+1E21), read both ways by skeletons.
            case 0x38: out.append(Tokenizer.arabiziEight)
            case 0x39: out.append(0x71)                    // 9 ق -> q
            case 0x35: out.append(0x6B); out.append(0x68)  // 5 خ -> kh
            case 0x32: break                               // 2 hamza: silent
            default: out.append(scalars[k])                // 3 stays: our letter for ع
            }
        }
        scalars.replaceSubrange(s..., with: out)
    }

    /// -aux -> -al, then -s / -x, only on letters-only words long enough to be plurals.
    private func pluralFold(from s: Int) -> Token.PluralFold {
        scalars.withUnsafeBufferPointer { Tokenizer.pluralFold(UnsafeBufferPointer(rebasing: $0[s...])) }
    }

    /// The plural folding of a Latin word; also used on the rest of a word after the matcher
    /// peels a Darija clitic (lpoubelles -> poubelles -> poubelle).
    static func pluralFold(_ word: UnsafeBufferPointer<UInt32>) -> Token.PluralFold {
        let length = word.count
        guard length >= 4 else { return .none }
        for c in word where c < 0x61 || c > 0x7A { return .none }  // letters only
        let last = word[length - 1]
        if length >= 5 && last == 0x78 && word[length - 2] == 0x75 && word[length - 3] == 0x61 {
            return .auxToAl
        } else if last == 0x78 || (last == 0x73 && word[length - 2] != 0x73) {
            return .dropLast
        }
        return .none
    }

    /// The token's spelling key: its scalars with the plural folded, written into `out`.
    static func spelling(_ word: UnsafeBufferPointer<UInt32>, fold: Token.PluralFold, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        switch fold {
        case .none: out.append(contentsOf: word)
        case .dropLast: out.append(contentsOf: word[0..<(word.count - 1)])
        case .auxToAl: out.append(contentsOf: word[0..<(word.count - 2)]); out.append(0x6C)
        }
    }

    private static let elisions: [[UInt32]] = ["l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu"]
        .map { $0.unicodeScalars.map(\.value) }

    private static func isElision(_ slice: ArraySlice<UInt32>) -> Bool {
        elisions.contains { $0.elementsEqual(slice) }
    }

    /// The normalised text, tokens separated by one space (for explanations and the rules hash).
    var normalizedText: String {
        var out = String.UnicodeScalarView()
        for (k, t) in tokens.enumerated() {
            if k > 0 { out.append(" ") }
            var folded: [UInt32] = []
            scalars.withUnsafeBufferPointer {
                Tokenizer.spelling(UnsafeBufferPointer(rebasing: $0[Int(t.normStart)..<Int(t.normEnd)]), fold: t.fold, into: &folded)
            }
            for v in folded {
                if let u = Unicode.Scalar(v) { out.append(u) }
            }
        }
        return String(out)
    }
}
