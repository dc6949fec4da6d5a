/// The consonant skeleton of a normalised token, in ASCII, shared by Arabic script and Arabizi.
///
/// Darija has no fixed spelling: zbel, zbal, zbl and الزبل are one word, ch/sh/x one sound, and
/// vowels come and go. Keywords marked `~` are compared by skeleton so that all of these meet,
/// while French keywords keep exact spelling (a skeleton would merge bus and bas).
enum Skeleton {
    static let ch: UInt32 = 0x43  // "C": ش, ch, sh, x
    /// "q": ق, q, Arabizi 9, and also g and ڭ. In Casablanca ق is mostly said g, so زنقة is
    /// written zen9a, zenqa and zenga alike; one letter lets them meet.
    static let qaf: UInt32 = 0x71
    /// "G": غ and Latin gh (and the غ reading of Arabizi 8), kept apart from ق/g: غطا is not قطا.
    static let ghayn: UInt32 = 0x47

    /// Opens the ending of a two-consonant key (Skeleton.key); never a consonant of a skeleton.
    static let ending: UInt32 = 0x5F  // "_"

    /// Writes into `out` the key a `~` keyword compares by, and says whether there is one. From
    /// three consonants the key is the skeleton. Two consonants meet too many unrelated words
    /// (7out fish, 7it wall, mcha went), so their key also says how the word ends: `_a` (a, e, and
    /// ا or ة in Arabic script), `_i` (i, y, ي), `_u` (o, u, w, و), or nothing after a consonant.
    /// Spellings of one Darija word agree on their ending far more than on their inner vowels:
    /// lma, lme, elma, الما and الماء all give `lm_a`, mch, moch and mech all give `mC`. With
    /// fewer than two consonants there is no key.
    static func key(_ token: UnsafeBufferPointer<UInt32>, eight: UInt32 = 0x68, into out: inout [UInt32]) -> Bool {
        build(token, eight: eight, into: &out)
        if out.count >= 3 { return true }
        guard out.count == 2 else { return false }
        // A final hamza is no letter of its own here: ماء ends like ما.
        var last = token.count - 1
        while last > 0 && token[last] == 0x0621 { last -= 1 }
        if let vowel = ending(of: token[last]) {
            out.append(ending)
            out.append(vowel)
        }
        return true
    }

    /// Whether a key has fewer than three consonants (two, with or without an ending).
    static func isShort(_ key: [UInt32]) -> Bool { key.count < 3 || key.contains(ending) }

    /// The vowel a word's last letter stands for, as a, i or u; nil for a consonant.
    static func ending(of last: UInt32) -> UInt32? {
        switch last {
        case 0x61, 0x65, 0x0627, 0x0647: 0x61              // a e, ا, final ه (ة folded)
        case 0x69, 0x79, 0x064A: 0x69                      // i y, ي (ى folded)
        case 0x6F, 0x75, 0x77, 0x0648: 0x75                // o u w, و
        default: nil
        }
    }

    /// Writes the skeleton of `token` into `out` (cleared first). Arabizi 8 becomes `eight`:
    /// h (ه) by default, `ghayn` (غ) for the second reading.
    static func build(_ token: UnsafeBufferPointer<UInt32>, eight: UInt32 = 0x68, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        let n = token.count
        var i = 0
        // A consonant written twice in a row is one (gemination: ssima, zzbel, mharres), but two
        // with a vowel between are two: 3omoumi and عمومي keep 3mm, apart from 3am (3m).
        var vowelSince = false
        @inline(__always) func emit(_ c: UInt32) {
            if out.last != c || vowelSince { out.append(c) }
            vowelSince = false
        }
        while i < n {
            let c = token[i]
            let next: UInt32 = i + 1 < n ? token[i + 1] : 0
            switch c {
            case 0x61 where next == 0x61 && i + 2 == n:
                // aa closing a word is ع written without its 3: sbaa, dfaa, sme3 = smaa. (Opening
                // a word it is too, aamr, but there it also meets peeled clitics: baard.)
                emit(0x33); i += 2
            case 0x61, 0x65, 0x69, 0x6F, 0x75, 0x79, 0x77: vowelSince = true; i += 1; continue  // a e i o u y w
            case 0x63:  // c: ch is ش; before e, i, y it is s, as in French (picine, mikanician)
                if next == 0x68 { emit(ch); i += 2 } else if next == 0x65 || next == 0x69 || next == 0x79 { emit(0x73); i += 1 } else { emit(0x6B); i += 1 }
            case 0x71:  // qu before a vowel is French k (clinique, klinik)
                if next == 0x75, i + 2 < n, token[i + 2] == 0x61 || token[i + 2] == 0x65 || token[i + 2] == 0x69 || token[i + 2] == 0x6F { emit(0x6B); i += 2 } else { emit(qaf); i += 1 }
            case 0x73:  // s
                if next == 0x68 { emit(ch); i += 2 } else { emit(0x73); i += 1 }
            case 0x6B:  // k
                if next == 0x68 { emit(0x78); i += 2 } else { emit(0x6B); i += 1 }
            case 0x67:  // gh is غ; a lone g is ڭ or ق said g (zenga = zen9a)
                if next == 0x68 { emit(ghayn); i += 2 } else { emit(qaf); i += 1 }
            case 0x78: emit(ch); i += 1
            case 0x70: emit(0x62); i += 1  // p -> b
            case 0x76: emit(0x66); i += 1  // v -> f
            case 0x61...0x7A, 0x30...0x39: emit(c); i += 1
            case Tokenizer.arabiziH: emit(0x68); i += 1
            case Tokenizer.arabiziEight: emit(eight); i += 1
            // Arabic: long vowels, alef and hamza carry no consonant; a final ه is mostly ة.
            case 0x0627, 0x0621, 0x0648, 0x064A: vowelSince = true; i += 1
            case 0x0647: if i + 1 < n { emit(0x68) }; i += 1
            case 0x0628, 0x067E: emit(0x62); i += 1
            case 0x062A, 0x062B, 0x0637: emit(0x74); i += 1
            case 0x062C: emit(0x6A); i += 1
            case 0x062D: emit(0x68); i += 1
            case 0x062E: emit(0x78); i += 1
            case 0x062F, 0x0630, 0x0636, 0x0638: emit(0x64); i += 1
            case 0x0631: emit(0x72); i += 1
            case 0x0632: emit(0x7A); i += 1
            case 0x0633, 0x0635: emit(0x73); i += 1
            case 0x0634: emit(ch); i += 1
            case 0x0639: emit(0x33); i += 1
            case 0x063A: emit(ghayn); i += 1
            case 0x06AD: emit(qaf); i += 1  // ڭ (and گ ݣ ڨ folded to it): the g that ق becomes
            case 0x0641, 0x06A4: emit(0x66); i += 1
            case 0x0642: emit(qaf); i += 1
            case 0x0643: emit(0x6B); i += 1
            case 0x0644: emit(0x6C); i += 1
            case 0x0645: emit(0x6D); i += 1
            case 0x0646: emit(0x6E); i += 1
            default: i += 1
            }
        }
    }
}
