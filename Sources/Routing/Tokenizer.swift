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

    /// One pass over the bytes: decodes UTF-8, folds each scalar through `ScalarFolding.table`,
    /// collapses runs as the scalars are written and finishes each token at its end, writing
    /// through a pointer into `scalars` sized for the worst case (two scalars a byte) instead
    /// of appending scalar by scalar.
    mutating func tokenize(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        // Taken out of self, so that writing them is no copy and no exclusivity check on self.
        var out = scalars
        scalars = []
        var found = tokens
        tokens = []
        out.removeAll(keepingCapacity: true)
        found.removeAll(keepingCapacity: true)
        let worst = 2 * bytes.count + 8
        out.append(contentsOf: repeatElement(0, count: worst))
        let table = ScalarFolding.table
        let written = table.withUnsafeBufferPointer { table in
            out.withUnsafeMutableBufferPointer { buffer in
                Tokenizer.scan(bytes, table: table, into: buffer, tokens: &found)
            }
        }
        out.removeLast(worst - written)
        scalars = out
        tokens = found
    }

    /// The loop of `tokenize`: no closures and the token's fields as plain locals, so that the
    /// per-scalar path stays in registers (captured variables were spilled on every scalar).
    private static func scan(_ bytes: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt64>,
                             into buffer: UnsafeMutableBufferPointer<UInt32>, tokens: inout [Token]) -> Int {
        var w = 0
        var open = false
        var normStart = 0, utf8Start = 0, utf8End = 0
        var script = Token.Script.digits
        var hasArabic = false, hasLatin = false, hasDigit = false
        var run = 0  // how many times the last scalar written stands in a row in this token

        var i = 0
        let n = bytes.count
        while i < n {
            let start = i
            let b0 = UInt32(bytes[i])
            var entry: UInt64
            if b0 < 0x80 {
                entry = table[Int(b0)]
                i += 1
            } else {
                var v: UInt32
                if b0 < 0xE0, i + 1 < n {
                    v = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F); i += 2
                } else if b0 < 0xF0, i + 2 < n {
                    v = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F); i += 3
                } else if i + 3 < n {
                    v = (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                        | UInt32(bytes[i + 3] & 0x3F); i += 4
                } else {
                    v = 0xFFFD; i += 1
                }
                if v < ScalarFolding.tableLimit {
                    entry = table[Int(v)]
                } else {
                    let f = ScalarFolding.slowFold(v)
                    entry = UInt64(f.kind.rawValue) << 48 | UInt64(f.second) << 24 | UInt64(f.first)
                }
            }
            let kind = UInt8(truncatingIfNeeded: entry >> 48)
            if kind == ScalarKind.drop.rawValue { continue }
            if kind == ScalarKind.separator.rawValue || kind == ScalarKind.apostrophe.rawValue {
                if open {
                    finish(buffer, &w, normStart: normStart, utf8Start: utf8Start, utf8End: utf8End, script: script,
                           hasDigit: hasDigit, beforeApostrophe: kind == ScalarKind.apostrophe.rawValue, tokens: &tokens)
                    open = false
                }
                continue
            }
            // A letter or a digit. Arabic letters touching Latin letters or digits start a new token.
            let isArabic = kind == ScalarKind.arabic.rawValue
            if open && (isArabic ? (hasLatin || script == .digits) : hasArabic) {
                finish(buffer, &w, normStart: normStart, utf8Start: utf8Start, utf8End: utf8End, script: script,
                       hasDigit: hasDigit, beforeApostrophe: false, tokens: &tokens)
                open = false
            }
            if !open {
                open = true
                hasArabic = false; hasLatin = false; hasDigit = false
                normStart = w
                utf8Start = start
                script = .digits
            }
            if isArabic {
                hasArabic = true; script = .arabic
            } else if kind == ScalarKind.latin.rawValue {
                hasLatin = true; script = .latin
            } else {
                hasDigit = true
            }
            utf8End = i
            var c = UInt32(truncatingIfNeeded: entry & 0xFFFFFF)
            var next = UInt32(truncatingIfNeeded: (entry >> 24) & 0xFFFFFF)  // œ -> o e
            while c != 0 {
                if w > normStart && buffer[w - 1] == c { run += 1 } else { run = 1 }
                // A letter written three or more times in a row (ضوووو, bzzzaf) counts once.
                if run < 3 || (c >= 0x30 && c <= 0x39) {
                    buffer[w] = c
                    w += 1
                } else if run == 3 {
                    w -= 1
                }
                c = next
                next = 0
            }
        }
        if open {
            finish(buffer, &w, normStart: normStart, utf8Start: utf8Start, utf8End: utf8End, script: script,
                   hasDigit: hasDigit, beforeApostrophe: false, tokens: &tokens)
        }
        return w
    }

    /// Ends the token whose scalars are buffer[normStart..<w]: a French elision before an
    /// apostrophe is dropped, Arabizi digits are mapped and the plural folding noted on Latin
    /// words; an empty token is no token.
    @inline(never)
    private static func finish(_ buffer: UnsafeMutableBufferPointer<UInt32>, _ w: inout Int, normStart s: Int,
                               utf8Start: Int, utf8End: Int, script: Token.Script, hasDigit: Bool,
                               beforeApostrophe: Bool, tokens: inout [Token]) {
        var fold = Token.PluralFold.none
        if script == .latin {
            if beforeApostrophe && isElision(UnsafeBufferPointer(rebasing: buffer[s..<w])) {
                w = s
                return
            }
            if hasDigit { w = mapArabiziDigits(buffer, from: s, to: w) }
            fold = pluralFold(UnsafeBufferPointer(rebasing: buffer[s..<w]))
        }
        guard w > s else { return }
        tokens.append(Token(utf8Start: Int32(truncatingIfNeeded: utf8Start), utf8End: Int32(truncatingIfNeeded: utf8End),
                            normStart: Int32(truncatingIfNeeded: s), normEnd: Int32(truncatingIfNeeded: w),
                            script: script, fold: fold))
    }

    /// In Arabizi, digits inside words stand for Arabic letters; "3 jours" and "n°7" are
    /// separate digit tokens and never get here. Two letters at least, so "t2" or "3h" stay, or
    /// one letter between digits. Rewrites buffer[s..<e] and returns its new end (5 becomes kh,
    /// 2 nothing; the buffer has room for two scalars a byte).
    private static func mapArabiziDigits(_ buffer: UnsafeMutableBufferPointer<UInt32>, from s: Int, to e: Int) -> Int {
        var letters = 0, digits = 0
        for k in s..<e {
            let c = buffer[k]
            if c >= 0x30 && c <= 0x39 { digits += 1 } else { letters += 1 }
        }
        // One letter is enough between digits (7m9, 3n9): no number or unit is written that way.
        let isDigit = { (c: UInt32) in c >= 0x30 && c <= 0x39 }
        guard digits > 0, letters >= 2 || (letters == 1 && isDigit(buffer[s]) && isDigit(buffer[e - 1])) else { return e }
        let word = Array(buffer[s..<e])
        var w = s
        for c in word {
            switch c {
            // 7 ح becomes ḥ (U+1E25), not h: "s7i7" must not read as "sh".
            case 0x37: buffer[w] = Tokenizer.arabiziH; w += 1
            // 8 is ه or غ: its own letter ḡ (U+1E21), read both ways by skeletons.
            case 0x38: buffer[w] = Tokenizer.arabiziEight; w += 1
            case 0x39: buffer[w] = 0x71; w += 1                          // 9 ق -> q
            case 0x35: buffer[w] = 0x6B; buffer[w + 1] = 0x68; w += 2    // 5 خ -> kh
            case 0x32: break                                             // 2 hamza: silent
            default: buffer[w] = c; w += 1                               // 3 stays: our letter for ع
            }
        }
        return w
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

    /// French elided words before an apostrophe: l d j m n s t c qu jusqu lorsqu puisqu.
    private static func isElision(_ word: UnsafeBufferPointer<UInt32>) -> Bool {
        switch word.count {
        case 1:
            switch word[0] {
            case 0x6C, 0x64, 0x6A, 0x6D, 0x6E, 0x73, 0x74, 0x63: return true
            default: return false
            }
        case 2: return word[0] == 0x71 && word[1] == 0x75
        case 5: return word.elementsEqual("jusqu".unicodeScalars.lazy.map(\.value))
        case 6: return word.elementsEqual("lorsqu".unicodeScalars.lazy.map(\.value))
            || word.elementsEqual("puisqu".unicodeScalars.lazy.map(\.value))
        default: return false
        }
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
