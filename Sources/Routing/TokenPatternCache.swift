/// The word patterns each distinct token offered the last time it was matched, so that a token
/// seen before costs one hash and one comparison instead of its clitic peeling, table lookups and
/// consonant skeletons (complaints repeat a few thousand words: most tokens of a batch are
/// repeats).
///
/// What a token offers depends only on its normalised scalars, its script and plural folding,
/// whether the token before it is "ma" (the split negation), and the matcher: the key holds the
/// first three, and the cache empties itself when used with another matcher (`owner`). Bounded:
/// when `capacity` entries or their scalars' budget are reached it starts again empty, so memory
/// stays flat whatever the input. Capacity 0 turns it off (tests compare both ways).
struct TokenPatternCache {
    static let defaultCapacity = 16_384
    /// Scalars and ids kept per entry on average before the cache starts again.
    static let wordsPerEntry = 24
    /// Longer tokens are matched every time rather than kept.
    static let longestWord = 48

    let capacity: Int
    /// The matcher whose results the entries hold (kept alive here, so never mistaken for a
    /// later one at the same address).
    private(set) var owner: Matcher.Identity?
    /// Open addressing: the record's offset in `pool`, -1 when free.
    private var slots: [Int32]
    /// The top 32 bits of each slot's hash, compared before the key.
    private var tags: [UInt32]
    private var mask: Int
    /// Records one after another: flags, key length, key scalars, id count, ids.
    private var pool: [UInt32] = []
    private(set) var count = 0

    init(capacity: Int = TokenPatternCache.defaultCapacity) {
        self.capacity = max(0, capacity)
        // Allocated at the first insert: a workspace made for one text costs nothing.
        slots = []
        tags = []
        mask = 0
    }

    var isEnabled: Bool { capacity > 0 }

    /// Empties the cache when it holds another matcher's results.
    mutating func use(for matcher: Matcher.Identity) {
        guard matcher !== owner else { return }
        if count > 0 { clear() }
        owner = matcher
    }

    mutating func clear() {
        for i in slots.indices { slots[i] = -1 }
        pool.removeAll(keepingCapacity: true)
        count = 0
    }

    static func hash(_ word: UnsafeBufferPointer<UInt32>, flags: UInt32) -> UInt64 {
        var h = KeyTable.mix(KeyTable.seed, flags)
        for v in word { h = KeyTable.mix(h, v) }
        // FNV's low bits are weak for short keys: fold the high half in before masking.
        return h ^ (h >> 29)
    }

    /// Appends the cached ids of (`word`, `flags`) to `ids` and returns true, or returns false.
    func append(_ word: UnsafeBufferPointer<UInt32>, flags: UInt32, hash: UInt64, to ids: inout [Int32]) -> Bool {
        guard !slots.isEmpty else { return false }
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        return pool.withUnsafeBufferPointer { pool in
            var s = Int(truncatingIfNeeded: hash) & mask
            while true {
                let o = Int(slots[s])
                if o < 0 { return false }
                if tags[s] == tag && pool[o] == flags && Int(pool[o + 1]) == word.count {
                    var same = true
                    for k in 0..<word.count where pool[o + 2 + k] != word[k] {
                        same = false
                        break
                    }
                    if same {
                        let c = o + 2 + word.count
                        let n = Int(pool[c])
                        for k in 0..<n { ids.append(Int32(bitPattern: pool[c + 1 + k])) }
                        return true
                    }
                }
                s = (s + 1) & mask
            }
        }
    }

    /// Records that (`word`, `flags`) offers `ids`; starts again empty when full.
    mutating func insert(_ word: UnsafeBufferPointer<UInt32>, flags: UInt32, hash: UInt64, ids: ArraySlice<Int32>) {
        // A word longer than any keyword part is most likely noise: not worth a slot.
        guard capacity > 0, word.count <= TokenPatternCache.longestWord else { return }
        if slots.isEmpty {
            var size = 16
            while size < capacity * 2 { size <<= 1 }
            slots = [Int32](repeating: -1, count: size)
            tags = [UInt32](repeating: 0, count: size)
            mask = size - 1
        }
        let size = 3 + word.count + ids.count
        if count >= capacity || pool.count + size > capacity * TokenPatternCache.wordsPerEntry { clear() }
        let offset = Int32(pool.count)
        pool.append(flags)
        pool.append(UInt32(word.count))
        pool.append(contentsOf: word)
        pool.append(UInt32(ids.count))
        for id in ids { pool.append(UInt32(bitPattern: id)) }
        var s = Int(truncatingIfNeeded: hash) & mask
        while slots[s] >= 0 { s = (s + 1) & mask }
        slots[s] = offset
        tags[s] = UInt32(truncatingIfNeeded: hash >> 32)
        count += 1
    }
}
