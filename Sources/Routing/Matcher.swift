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
    private var edges: [UInt64: Int32] = [:]
    private var nodeRules: [[Int32]] = [[]]
    private(set) var maxDepth = 1

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
                if let next = edges[key] {
                    node = next
                } else {
                    let next = Int32(nodeRules.count)
                    nodeRules.append([])
                    edges[key] = next
                    node = next
                }
            }
            nodeRules[Int(node)].append(Int32(r))
            maxDepth = max(maxDepth, rule.patterns.count)
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
        init() {
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
        for t in 0..<tokenCount {
            scratch.idStarts.append(Int32(scratch.ids.count))
            collectPatterns(token: t, scratch: &scratch)
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
            if let child = edges[key] { follow(node: child, first: first, next: next + 1, scratch: &scratch) }
        }
    }

    // MARK: candidates of one token

    private static let arabicClitics: [[UInt32]] = ["وال", "بال", "كال", "فال", "دال", "لل", "ال", "و", "ف", "ب", "ل", "د"]
        .map { $0.unicodeScalars.map(\.value) }
    private static let latinClitics: [[UInt32]] = ["el", "fl", "l", "f", "b", "w", "d"]
        .map { $0.unicodeScalars.map(\.value) }
    private static let arabicMa: [UInt32] = [0x0645, 0x0627]
    private static let arabicSh: UInt32 = 0x0634
    private static let latinMa: [UInt32] = [0x6D, 0x61]

    private func collectPatterns(token t: Int, scratch: inout Scratch) {
        let token = scratch.tokenizer.tokens[t]
        let s = Int(token.normStart), e = Int(token.normEnd)
        let previousIsMa: Bool = {
            guard t > 0 else { return false }
            let p = scratch.tokenizer.tokens[t - 1]
            let ps = Int(p.normStart), pe = Int(p.normEnd)
            let ma = token.script == .arabic ? Matcher.arabicMa : Matcher.latinMa
            return pe - ps == 2 && scratch.tokenizer.scalars[ps] == ma[0] && scratch.tokenizer.scalars[ps + 1] == ma[1]
        }()
        let scalars = scratch.tokenizer.scalars  // shared storage, no copy: matching never writes it
        scalars.withUnsafeBufferPointer { all in
            let word = UnsafeBufferPointer(rebasing: all[s..<e])
            switch token.script {
            case .digits:
                lookup(word, skeleton: false, scratch: &scratch)
            case .arabic:
                lookup(word, skeleton: false, scratch: &scratch)
                lookupSkeleton(word, scratch: &scratch)
                for clitic in Matcher.arabicClitics where word.count - clitic.count >= 2 && word.starts(with: clitic) {
                    let rest = UnsafeBufferPointer(rebasing: word[clitic.count...])
                    lookup(rest, skeleton: false, scratch: &scratch)
                    lookupSkeleton(rest, scratch: &scratch)
                }
                // Negation wrapper ما…ش, glued (ماجاش) or split (ما جاش).
                if word.count >= 3, word[word.count - 1] == Matcher.arabicSh {
                    if word.count >= 5 && word.starts(with: Matcher.arabicMa) {
                        let core = UnsafeBufferPointer(rebasing: word[2..<(word.count - 1)])
                        lookup(core, skeleton: false, scratch: &scratch)
                        lookupSkeleton(core, scratch: &scratch)
                    } else if previousIsMa {
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
                lookupSkeleton(word, scratch: &scratch)
                for clitic in Matcher.latinClitics where word.count - clitic.count >= 2 && word.starts(with: clitic) {
                    lookupSkeleton(UnsafeBufferPointer(rebasing: word[clitic.count...]), scratch: &scratch)
                }
                if word.count >= 3, word[word.count - 1] == 0x68, word[word.count - 2] == 0x63 {  // ...ch
                    if word.count >= 6 && word.starts(with: Matcher.latinMa) {
                        lookupSkeleton(UnsafeBufferPointer(rebasing: word[2..<(word.count - 2)]), scratch: &scratch)
                    } else if previousIsMa {
                        lookupSkeleton(UnsafeBufferPointer(rebasing: word[0..<(word.count - 2)]), scratch: &scratch)
                    }
                }
            }
        }
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
    private func lookup(_ word: UnsafeBufferPointer<UInt32>, exact: borrowing KeyTable, prefix: borrowing KeyTable,
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

    private func lookupSkeleton(_ word: UnsafeBufferPointer<UInt32>, scratch: inout Scratch) {
        guard skeletonExact.count > 0 || skeletonPrefix.count > 0 else { return }
        var buffer = scratch.skeleton
        scratch.skeleton = []
        Skeleton.build(word, into: &buffer)
        if buffer.count >= 3 {
            buffer.withUnsafeBufferPointer { lookup($0, skeleton: true, scratch: &scratch) }
        }
        // Arabizi 8 reads as ه above; try غ too (rare: only tokens that hold an 8).
        if word.contains(Tokenizer.arabiziEight) {
            Skeleton.build(word, eight: 0x67, into: &buffer)
            if buffer.count >= 3 {
                buffer.withUnsafeBufferPointer { lookup($0, skeleton: true, scratch: &scratch) }
            }
        }
        scratch.skeleton = buffer
    }
}
