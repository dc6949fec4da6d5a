/// All keywords of a rule set compiled once: four word tables (exact and prefix, by spelling and
/// by skeleton) and a trie of phrases over word-pattern ids.
///
/// For each token the tables give the set of word patterns it satisfies (cost: its length and a
/// few clitic-peeled variants); phrases are then followed from each token through the trie, whose
/// depth is bounded by the longest phrase. Overlapping matches are all reported. Total cost is
/// linear in the text length and independent of the number of keywords.
struct Matcher: Sendable {
    var plainExact = KeyTable(capacity: 16)
    var plainPrefix = KeyTable(capacity: 16)
    var skeletonExact = KeyTable(capacity: 16)
    var skeletonPrefix = KeyTable(capacity: 16)
    private var rootChild: [Int32] = []
    private var edges = EdgeTable()
    private var nodeRules: [[Int32]] = [[]]
    private(set) var maxDepth = 1
    /// Tells one compiled matcher from another, so that a `TokenPatternCache` filled by one is
    /// never read for another (a worker's workspace outlives a rules publication).
    let identity = Identity()

    /// An object whose only use is its identity; the cache holds it, so it cannot be reused.
    final class Identity: Sendable {}

    init(patterns: [WordPattern], rules: [Rule]) {
        plainExact = KeyTable(capacity: patterns.count)
        plainPrefix = KeyTable(capacity: 16)
        skeletonExact = KeyTable(capacity: patterns.count)
        skeletonPrefix = KeyTable(capacity: 16)
        for (id, p) in patterns.enumerated() {
            switch (p.skeleton, p.prefix) {
            case (false, false): plainExact.insert(p.key, pattern: Int32(id))
            case (false, true): plainPrefix.insert(p.key, pattern: Int32(id))
            case (true, false): skeletonExact.insert(p.key, pattern: Int32(id))
            case (true, true): skeletonPrefix.insert(p.key, pattern: Int32(id))
            }
        }
        rootChild = [Int32](repeating: -1, count: patterns.count)
        for (r, rule) in rules.enumerated() {
            guard let first = rule.patterns.first else { continue }
            var node = rootChild[Int(first)]
            if node < 0 {
                node = Int32(nodeRules.count)
                nodeRules.append([])
                rootChild[Int(first)] = node
            }
            for p in rule.patterns.dropFirst() {
                let key = UInt64(UInt32(node)) << 32 | UInt64(UInt32(p))
                if let next = edges.find(key) {
                    node = next
                } else {
                    let next = Int32(nodeRules.count)
                    nodeRules.append([])
                    edges.insert(key, next)
                    node = next
                }
            }
            nodeRules[Int(node)].append(Int32(r))
            maxDepth = max(maxDepth, rule.patterns.count)
        }
    }

    /// The trie's edges, (node, pattern) -> child: open addressing with a multiplicative hash,
    /// probed for every pattern of every token after a phrase's first word (a Dictionary's
    /// seeded hashing was 3 % of classifying).
    struct EdgeTable: Sendable {
        private var keys: [UInt64] = []
        private var values: [Int32] = []
        private var mask = 0
        private(set) var count = 0
        var isEmpty: Bool { count == 0 }

        @inline(__always) private func slot(_ key: UInt64) -> Int {
            Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        }

        func find(_ key: UInt64) -> Int32? {
            guard count > 0 else { return nil }
            var s = slot(key)
            while true {
                let v = values[s]
                if v < 0 { return nil }
                if keys[s] == key { return v }
                s = (s + 1) & mask
            }
        }

        mutating func insert(_ key: UInt64, _ value: Int32) {
            if (count + 1) * 2 > values.count { grow() }
            var s = slot(key)
            while values[s] >= 0 && keys[s] != key { s = (s + 1) & mask }
            if values[s] < 0 { count += 1 }
            keys[s] = key
            values[s] = value
        }

        private mutating func grow() {
            let old = zip(keys, values).filter { $0.1 >= 0 }
            let size = max(16, values.count * 2)
            keys = [UInt64](repeating: 0, count: size)
            values = [Int32](repeating: -1, count: size)
            mask = size - 1
            count = 0
            for (k, v) in old { insert(k, v) }
        }
    }

    /// A rule found at tokens first..<end.
    struct Hit {
        var rule: Int32
        var first: Int32
        var end: Int32
    }

    /// Buffers reused across texts so that matching allocates nothing in steady state.
    struct Scratch {
        var tokenizer = Tokenizer()
        var ids: [Int32] = []
        var idStarts: [Int32] = []
        var skeleton: [UInt32] = []
        var hits: [Hit] = []
        var peel: [UInt32] = []
        var cache: TokenPatternCache
        init(cacheCapacity: Int = TokenPatternCache.defaultCapacity) {
            cache = TokenPatternCache(capacity: cacheCapacity)
            ids.reserveCapacity(128)
            idStarts.reserveCapacity(64)
            skeleton.reserveCapacity(32)
            hits.reserveCapacity(32)
        }
    }

    /// Tokenises `utf8` into `scratch.tokenizer` and leaves every rule hit in `scratch.hits`.
    func match(utf8: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) {
        scratch.tokenizer.tokenize(utf8: utf8)
        scratch.ids.removeAll(keepingCapacity: true)
        scratch.idStarts.removeAll(keepingCapacity: true)
        scratch.hits.removeAll(keepingCapacity: true)
        let tokenCount = scratch.tokenizer.tokens.count
        scratch.cache.use(for: identity)
        for t in 0..<tokenCount {
            let from = scratch.ids.count
            scratch.idStarts.append(Int32(from))
            guard scratch.cache.isEnabled else {
                collectPatterns(token: t, scratch: &scratch)
                continue
            }
            let token = scratch.tokenizer.tokens[t]
            let flags = UInt32(token.script.rawValue) | UInt32(token.fold.rawValue) << 2
                | (previousIsMa(t, script: token.script, scratch: scratch) ? 16 : 0)
            let scalars = scratch.tokenizer.scalars  // shared storage, no copy: matching never writes it
            let (hash, found) = scalars.withUnsafeBufferPointer { all in
                let word = UnsafeBufferPointer(rebasing: all[Int(token.normStart)..<Int(token.normEnd)])
                let hash = TokenPatternCache.hash(word, flags: flags)
                return (hash, scratch.cache.append(word, flags: flags, hash: hash, to: &scratch.ids))
            }
            if !found {
                collectPatterns(token: t, scratch: &scratch)
                scalars.withUnsafeBufferPointer { all in
                    let word = UnsafeBufferPointer(rebasing: all[Int(token.normStart)..<Int(token.normEnd)])
                    scratch.cache.insert(word, flags: flags, hash: hash, ids: scratch.ids[from...])
                }
            }
        }
        scratch.idStarts.append(Int32(scratch.ids.count))
        for t in 0..<tokenCount {
            let a = Int(scratch.idStarts[t]), b = Int(scratch.idStarts[t + 1])
            for k in a..<b {
                let node = rootChild[Int(scratch.ids[k])]
                if node >= 0 { follow(node: node, first: t, next: t + 1, scratch: &scratch) }
            }
        }
    }

    private func follow(node: Int32, first: Int, next: Int, scratch: inout Scratch) {
        for r in nodeRules[Int(node)] {
            scratch.hits.append(Hit(rule: r, first: Int32(first), end: Int32(next)))
        }
        guard !edges.isEmpty, next < scratch.tokenizer.tokens.count, next - first < maxDepth else { return }
        let a = Int(scratch.idStarts[next]), b = Int(scratch.idStarts[next + 1])
        for k in a..<b {
            let key = UInt64(UInt32(node)) << 32 | UInt64(UInt32(scratch.ids[k]))
            if let child = edges.find(key) { follow(node: child, first: first, next: next + 1, scratch: &scratch) }
        }
    }

    // MARK: candidates of one token

    private static let arabicClitics: [[UInt32]] = ["وال", "بال", "كال", "فال", "دال", "لل", "ال", "و", "ف", "ب", "ل", "د"]
        .map { $0.unicodeScalars.map(\.value) }
    /// The first entries of arabicClitics hold the article (ال, لل and their combinations).
    private static let arabicArticles = 7
    private static let latinClitics: [[UInt32]] = ["el", "fl", "l", "f", "b", "w", "d"]
        .map { $0.unicodeScalars.map(\.value) }
    /// The entries of latinClitics that are the article alone (el-, l-).
    private static let latinArticles: Set<Int> = [0, 2]
    private static let arabicMa: [UInt32] = [0x0645, 0x0627]
    private static let arabicSh: UInt32 = 0x0634
    private static let latinMa: [UInt32] = [0x6D, 0x61]

    /// Whether the token before `t` is "ma" in the script of `t` (ما…ش split in two words).
    @inline(__always)
    private func previousIsMa(_ t: Int, script: Token.Script, scratch: Scratch) -> Bool {
        guard t > 0 else { return false }
        let p = scratch.tokenizer.tokens[t - 1]
        let ps = Int(p.normStart), pe = Int(p.normEnd)
        guard pe - ps == 2 else { return false }
        let (m, a): (UInt32, UInt32) = script == .arabic ? (0x0645, 0x0627) : (0x6D, 0x61)
        return scratch.tokenizer.scalars[ps] == m && scratch.tokenizer.scalars[ps + 1] == a
    }

    private func collectPatterns(token t: Int, scratch: inout Scratch) {
        let token = scratch.tokenizer.tokens[t]
        let s = Int(token.normStart), e = Int(token.normEnd)
        let afterMa = self.previousIsMa(t, script: token.script, scratch: scratch)
        let scalars = scratch.tokenizer.scalars  // shared storage, no copy: matching never writes it
        scalars.withUnsafeBufferPointer { all in
            let word = UnsafeBufferPointer(rebasing: all[s..<e])
            switch token.script {
            case .digits:
                lookup(word, skeleton: false, scratch: &scratch)
            case .arabic:
                lookup(word, skeleton: false, scratch: &scratch)
                lookupSkeleton(word, scratch: &scratch, short: true)
                for (k, clitic) in Matcher.arabicClitics.enumerated() where word.count - clitic.count >= 2 && word.starts(with: clitic) {
                    let rest = UnsafeBufferPointer(rebasing: word[clitic.count...])
                    lookup(rest, skeleton: false, scratch: &scratch)
                    // After the article, a short key too: الريحة is ريحة, الدار is دار.
                    lookupSkeleton(rest, scratch: &scratch, short: k < Matcher.arabicArticles)
                }
                // Darija verb prefixes: كيطفي offers يطفي and طفي, كيتقطع offers يتقطع and تقطع.
                if let stem = Matcher.arabicVerbStem(word) {
                    // Two plain calls, not a loop over an array literal: nothing to allocate.
                    let marked = UnsafeBufferPointer(rebasing: word[stem.afterMarker...])
                    lookup(marked, skeleton: false, scratch: &scratch)
                    lookupSkeleton(marked, scratch: &scratch)  // كتقطع: the ت of تقطع is the person
                    let core = UnsafeBufferPointer(rebasing: word[stem.afterPerson...])
                    lookup(core, skeleton: false, scratch: &scratch)
                    lookupSkeleton(core, scratch: &scratch)
                }
                // Negation wrapper ما…ش, glued (ماجاش) or split (ما جاش).
                if word.count >= 3, word[word.count - 1] == Matcher.arabicSh {
                    if word.count >= 5 && word.starts(with: Matcher.arabicMa) {
                        let core = UnsafeBufferPointer(rebasing: word[2..<(word.count - 1)])
                        lookup(core, skeleton: false, scratch: &scratch)
                        lookupSkeleton(core, scratch: &scratch)
                    } else if afterMa {
                        let core = UnsafeBufferPointer(rebasing: word[0..<(word.count - 1)])
                        lookup(core, skeleton: false, scratch: &scratch)
                        lookupSkeleton(core, scratch: &scratch)
                    }
                }
            case .latin:
                if token.fold == .none {
                    lookup(word, skeleton: false, scratch: &scratch)
                } else {
                    var folded = scratch.peel
                    scratch.peel = []
                    Tokenizer.spelling(word, fold: token.fold, into: &folded)
                    folded.withUnsafeBufferPointer { lookup($0, skeleton: false, scratch: &scratch) }
                    scratch.peel = folded
                }
                // Darija in Latin letters glues its clitics; only skeleton keywords (Darija) see
                // the peeled forms, so French "beau" never offers "eau".
                lookupSkeleton(word, scratch: &scratch, short: true)
                for (k, clitic) in Matcher.latinClitics.enumerated() where word.count - clitic.count >= 2 && word.starts(with: clitic) {
                    lookupSkeleton(UnsafeBufferPointer(rebasing: word[clitic.count...]), scratch: &scratch,
                                   short: Matcher.latinArticles.contains(k))
                }
                // Plain keywords see a peeled form too (lpoubella, fzen9a, ttobis), but only where
                // no French word can start: see latinPlainPeel.
                if let rest = Matcher.latinPlainPeel(word) {
                    lookupLatinPlain(UnsafeBufferPointer(rebasing: word[rest...]), scratch: &scratch)
                }
                // Darija verb prefixes: kaytfi offers ytfi and tfi, katsed offers tsed and sed.
                if let stem = Matcher.latinVerbStem(word) {
                    if stem.afterMarker > 0 {
                        let marked = UnsafeBufferPointer(rebasing: word[stem.afterMarker...])
                        lookupLatinPlain(marked, scratch: &scratch)
                        lookupSkeleton(marked, scratch: &scratch)  // kat9ta3: t9ta3 keeps its t
                    }
                    let core = UnsafeBufferPointer(rebasing: word[stem.afterPerson...])
                    lookupLatinPlain(core, scratch: &scratch)
                    lookupSkeleton(core, scratch: &scratch)
                }
                if word.count >= 3, word[word.count - 1] == 0x68, word[word.count - 2] == 0x63 {  // ...ch
                    if word.count >= 6 && word.starts(with: Matcher.latinMa) {
                        lookupSkeleton(UnsafeBufferPointer(rebasing: word[2..<(word.count - 2)]), scratch: &scratch)
                    } else if afterMa {
                        lookupSkeleton(UnsafeBufferPointer(rebasing: word[0..<(word.count - 2)]), scratch: &scratch)
                    }
                }
            }
        }
    }

    /// Where a Darija verb's stem starts, after the aspect marker and after the person prefix.
    struct VerbStem {
        var afterMarker: Int
        var afterPerson: Int
    }

    /// The stem keeps at least this many letters, so short words (كاين, كتاب, kayn) stay whole.
    static let minimumStem = 3

    private static let arabicKaf: UInt32 = 0x0643, arabicTa: UInt32 = 0x062A, arabicAlef: UInt32 = 0x0627
    private static let arabicYa: UInt32 = 0x064A, arabicNun: UInt32 = 0x0646

    /// Darija present tense: aspect marker ك / كا / تا / ت, then person ي / ت / ن, then the stem
    /// (كيطفي, كاتقطع, تايسيل, تيطفي). The original token is still looked up as it is.
    ///
    /// A bare ت is taken only before ي: MSA is full of words in تن- and تت- (تنتشر, تنظيف,
    /// تتراكم) whose "stems" would be noise, while تيطفي is the common Darija spelling.
    static func arabicVerbStem(_ word: UnsafeBufferPointer<UInt32>) -> VerbStem? {
        guard word.count >= 2 + minimumStem, word[0] == arabicKaf || word[0] == arabicTa else { return nil }
        var p = 1
        if word[1] == arabicAlef { p = 2 }
        let person = word[p]
        guard person == arabicYa || person == arabicTa || person == arabicNun,
              word.count - (p + 1) >= minimumStem else { return nil }
        if word[0] == arabicTa && p == 1 && person != arabicYa { return nil }
        return VerbStem(afterMarker: p, afterPerson: p + 1)
    }

    /// The same in Arabizi: kay-/kat-/kan-/tay-/tat-/tan- (kaytfi, katsed, tay7ebsso), the
    /// contracted ki- (kitfa) and kn-/kt-/ky- (kntsna). afterMarker is 0 when the marker and the
    /// person are one letter (ki-), and then only afterPerson is offered.
    static func latinVerbStem(_ word: UnsafeBufferPointer<UInt32>) -> VerbStem? {
        guard word.count >= 2 + minimumStem else { return nil }
        let k: UInt32 = 0x6B, t: UInt32 = 0x74, a: UInt32 = 0x61, i: UInt32 = 0x69
        func isPerson(_ c: UInt32) -> Bool { c == 0x79 || c == t || c == 0x6E }  // y t n
        let m = word[0]
        guard m == k || m == t else { return nil }
        // tan-/tat- only with their a: tn-/tt- are the assimilated article (ttobis), not a verb.
        if word[1] == a, isPerson(word[2]), word.count - 3 >= minimumStem {
            return VerbStem(afterMarker: 2, afterPerson: 3)
        }
        // ki- and kn-/kt-/ky- are Darija only; ti-/tn- would peel French words (titre, tissu).
        if m == k, word[1] == i { return VerbStem(afterMarker: 0, afterPerson: 2) }
        if m == k, isPerson(word[1]) { return VerbStem(afterMarker: 1, afterPerson: 2) }
        return nil
    }

    /// Where the rest starts when a Darija clitic is glued to a Latin word, for plain keywords.
    ///
    /// Skeleton keywords already see every peeled form; plain ones (French loans, Arabizi spelt
    /// out) only when the glue cannot be French: the rest starts with a consonant and the pair is
    /// no French onset (bl br dr fl fr), so beau, bordure, degout, drame and flaque stay whole while
    /// lpoubella, fzen9a, bzbel, dtobis, elpoubelle, flpoubella are peeled. A doubled first
    /// consonant is the Arabic article assimilated (ttobis = الطوبيس, zzbel): one copy is dropped.
    static func latinPlainPeel(_ word: UnsafeBufferPointer<UInt32>) -> Int? {
        func isConsonant(_ c: UInt32) -> Bool {
            switch c {
            case 0x61, 0x65, 0x69, 0x6F, 0x75, 0x79: false  // a e i o u y
            default: true  // Latin consonants, the Arabizi 3, ḥ and ḡ
            }
        }
        let n = word.count
        guard n >= 1 + minimumStem else { return nil }
        let l: UInt32 = 0x6C, r: UInt32 = 0x72, e: UInt32 = 0x65, f: UInt32 = 0x66
        let c0 = word[0], c1 = word[1]
        // el- and fl- first: elpoubelle, flpoubella (fl + a vowel is French: flaque).
        if (c0 == e || c0 == f) && c1 == l && n >= 2 + minimumStem && isConsonant(word[2]) && word[2] != l {
            return 2
        }
        guard isConsonant(c1) else { return nil }
        if c0 == c1 { return 1 }
        switch c0 {
        case l, 0x77: return 1                              // l-, w-: never a French onset
        case f, 0x62: return c1 == l || c1 == r ? nil : 1  // f-, b-: not fl fr bl br
        case 0x64: return c1 == r ? nil : 1                 // d-: not dr
        default: return nil
        }
    }

    /// A plain lookup of a peeled Latin rest, with the plural folding the rest would get alone.
    private func lookupLatinPlain(_ word: UnsafeBufferPointer<UInt32>, scratch: inout Scratch) {
        let fold = Tokenizer.pluralFold(word)
        if fold == .none {
            lookup(word, skeleton: false, scratch: &scratch)
            return
        }
        var folded = scratch.peel
        scratch.peel = []
        Tokenizer.spelling(word, fold: fold, into: &folded)
        folded.withUnsafeBufferPointer { lookup($0, skeleton: false, scratch: &scratch) }
        scratch.peel = folded
    }

    @inline(__always)
    private func add(_ id: Int32, scratch: inout Scratch) {
        let from = Int(scratch.idStarts[scratch.idStarts.count - 1])
        for k in from..<scratch.ids.count where scratch.ids[k] == id { return }
        scratch.ids.append(id)
    }

    private func lookup(_ word: UnsafeBufferPointer<UInt32>, skeleton: Bool, scratch: inout Scratch) {
        if skeleton {
            lookup(word, exact: skeletonExact, prefix: skeletonPrefix, scratch: &scratch)
        } else {
            lookup(word, exact: plainExact, prefix: plainPrefix, scratch: &scratch)
        }
    }

    @inline(__always)
    private func lookup(_ word: UnsafeBufferPointer<UInt32>, exact: KeyTable, prefix: KeyTable,
                        scratch: inout Scratch) {
        guard exact.count > 0 || prefix.count > 0 else { return }
        let lengths = prefix.lengthMask
        var h = KeyTable.seed
        for i in 0..<word.count {
            h = KeyTable.mix(h, word[i])
            let length = i + 1
            if lengths & (1 << UInt64(min(length, 63))) != 0,
               let id = prefix.probe(hash: h, key: UnsafeBufferPointer(rebasing: word[0..<length])) {
                add(id, scratch: &scratch)
            }
        }
        if exact.count > 0, let id = exact.probe(hash: h, key: word) { add(id, scratch: &scratch) }
    }

    /// Looks `word` up by skeleton. Two-consonant keys (Skeleton.key) only when `short`: for the
    /// word as written or after the article, not for what peeling another clitic or a verb
    /// prefix leaves of it, which would turn every three-consonant word opening with f, b, w or d
    /// into a short one (blad, lad).
    private func lookupSkeleton(_ word: UnsafeBufferPointer<UInt32>, scratch: inout Scratch, short: Bool = false) {
        guard skeletonExact.count > 0 || skeletonPrefix.count > 0 else { return }
        var buffer = scratch.skeleton
        scratch.skeleton = []
        if Skeleton.key(word, into: &buffer), short || !Skeleton.isShort(buffer) {
            buffer.withUnsafeBufferPointer { lookup($0, skeleton: true, scratch: &scratch) }
        }
        // Arabizi 8 reads as ه above; try غ too (rare: only tokens that hold an 8).
        if word.contains(Tokenizer.arabiziEight) {
            if Skeleton.key(word, eight: Skeleton.ghayn, into: &buffer), short || !Skeleton.isShort(buffer) {
                buffer.withUnsafeBufferPointer { lookup($0, skeleton: true, scratch: &scratch) }
            }
        }
        scratch.skeleton = buffer
    }
}
