/// An open-addressing table from normalised words (scalar sequences) to pattern ids.
///
/// Exact keys are found with one probe after hashing the word; prefix keys ("poubel*") are probed
/// only at the lengths some prefix key has, while the same hash is being computed. The cost per
/// token is its length, whatever the number of keywords.
struct KeyTable: Sendable {
    private var slots: [Int32]
    private var mask: Int
    private var hashes: [UInt64] = []
    private var starts: [Int32] = []
    private var lengths: [Int32] = []
    private(set) var patterns: [Int32] = []
    private var keys: [UInt32] = []
    /// Bit L set when some key has length L (all lengths >= 63 share bit 63).
    private(set) var lengthMask: UInt64 = 0
    var count: Int { patterns.count }

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    static let seed: UInt64 = 0xcbf29ce484222325
    @inline(__always) static func mix(_ h: UInt64, _ v: UInt32) -> UInt64 {
        (h ^ UInt64(v)) &* 0x100000001b3
    }

    static func hash<C: Collection>(_ key: C) -> UInt64 where C.Element == UInt32 {
        var h = seed
        for v in key { h = mix(h, v) }
        return h
    }

    /// The pattern id of `key`, if present.
    func find<C: Collection>(_ key: C) -> Int32? where C.Element == UInt32 {
        var copy = Array(key)
        return copy.withUnsafeMutableBufferPointer { probe(hash: KeyTable.hash($0), key: UnsafeBufferPointer($0)) }
    }

    mutating func insert(_ key: [UInt32], pattern: Int32) {
        let h = KeyTable.hash(key)
        let entry = Int32(patterns.count)
        hashes.append(h)
        starts.append(Int32(keys.count))
        lengths.append(Int32(key.count))
        patterns.append(pattern)
        keys.append(contentsOf: key)
        lengthMask |= 1 << UInt64(min(key.count, 63))
        if patterns.count * 2 > slots.count { rehash() } else { place(entry, hash: h) }
    }

    private mutating func place(_ entry: Int32, hash: UInt64) {
        var s = Int(truncatingIfNeeded: hash) & mask
        while slots[s] >= 0 { s = (s + 1) & mask }
        slots[s] = entry
    }

    private mutating func rehash() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        for e in patterns.indices { place(Int32(e), hash: hashes[e]) }
    }

    @inline(__always)
    func probe(hash: UInt64, key: UnsafeBufferPointer<UInt32>) -> Int32? {
        var s = Int(truncatingIfNeeded: hash) & mask
        while true {
            let e = slots[s]
            if e < 0 { return nil }
            let ei = Int(e)
            if hashes[ei] == hash && Int(lengths[ei]) == key.count {
                let start = Int(starts[ei])
                var same = true
                for k in 0..<key.count where keys[start + k] != key[k] { same = false; break }
                if same { return patterns[ei] }
            }
            s = (s + 1) & mask
        }
    }
}
