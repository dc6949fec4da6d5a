import Routing

/// An arrondissement and a department: duplicates are only looked for inside one.
public struct DuplicateGroup: Sendable, Hashable {
    public let arrondissement: String
    public let department: String

    public init(arrondissement: String, department: String) {
        self.arrondissement = arrondissement
        self.department = department
    }
}

/// What a batch's duplicate lookup asks for: the newest open complaints of each group, within
/// `windowDays`, at most `perGroup` each; the text keys of those in `known` are not sent back
/// (the loop holds them already, `DuplicateKeyCache`).
struct DuplicateQuery: Sendable {
    let groups: [DuplicateGroup]
    let windowDays: Double
    let perGroup: Int
    var known: [Int64] = []
}

/// The text keys of complaints a routing loop has seen lately: those it routed and the candidates
/// it read. A complaint's keys never change (they are computed from its text, which never changes,
/// and written once with its decision), so an entry is never stale; the oldest entries go first
/// once `capacity` is reached. Each batch's candidates are mostly the same complaints as the
/// previous batch's: without this, each one's keys would be sent again with every batch's
/// candidates (before migration 21 they were read by a primary-key probe of `routing_decisions`
/// per candidate, most of the lookup's time; dropping this cache now costs the server what it
/// saves the worker, measured).
struct DuplicateKeyCache {
    private var entries: [Int64: (group: DuplicateGroup, keys: [Int32])] = [:]
    private var order: [Int64] = []
    private var oldest = 0
    let capacity: Int

    init(capacity: Int = 4_096) {
        self.capacity = capacity
    }

    var count: Int { entries.count }

    /// The ids held of complaints of `groups`.
    func ids(in groups: Set<DuplicateGroup>) -> [Int64] {
        entries.compactMap { groups.contains($0.value.group) ? $0.key : nil }
    }

    subscript(id: Int64) -> [Int32]? { entries[id]?.keys }

    mutating func insert(_ id: Int64, group: DuplicateGroup, keys: [Int32]) {
        guard capacity > 0, entries[id] == nil else { return }
        entries[id] = (group, keys)
        order.append(id)
        if entries.count > capacity {
            entries[order[oldest]] = nil
            oldest += 1
        }
        // The evicted ids' slots are reclaimed now and then, not on every insert.
        if oldest >= capacity {
            order.removeFirst(oldest)
            oldest = 0
        }
    }
}

/// An earlier open complaint that a new one of its group may repeat.
public struct DuplicateCandidate: Sendable {
    public let group: DuplicateGroup
    public let complaintID: Int64
    public let textKeys: [Int32]

    public init(group: DuplicateGroup, complaintID: Int64, textKeys: [Int32]) {
        self.group = group
        self.complaintID = complaintID
        self.textKeys = textKeys
    }

    /// Reads PostgreSQL's text form of an integer array (`{1,-2,3}`); anything unreadable is skipped.
    static func parseKeys(_ text: String) -> [Int32] {
        var text = text
        return text.withUTF8 { parseKeys($0) }
    }

    /// As `parseKeys(_:)`, over the bytes of the text form.
    static func parseKeys(_ text: UnsafeBufferPointer<UInt8>) -> [Int32] {
        // Over the UTF-8 bytes: splitting Characters into Substrings cost the worker more than
        // the comparison itself (callgrind). A token that is not a whole Int32 is skipped.
        var keys: [Int32] = []
        var value: Int64 = 0
        var negative = false
        var digits = 0
        var valid = true
        func flush() {
            if digits > 0 && valid {
                let signed = negative ? -value : value
                if let key = Int32(exactly: signed) { keys.append(key) }
            }
            value = 0; negative = false; digits = 0; valid = true
        }
        for byte in text {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits < 11 { value = value * 10 + Int64(byte - UInt8(ascii: "0")) } else { valid = false }
                digits += 1
            case UInt8(ascii: "-") where digits == 0 && !negative:
                negative = true
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "{"):
                flush()
            default:
                valid = false
            }
        }
        flush()
        return keys
    }
}

/// The link from a complaint to the earlier one it probably repeats.
public struct DuplicateLink: Sendable, Equatable {
    public let complaintID: Int64
    public let similarity: Double
}

/// Picks, for each complaint of a batch, the most alike earlier open complaint of its
/// arrondissement and department: among the candidates read from the database and the complaints
/// before it in the same batch. Pure, so that the choice is tested without a database.
public enum DuplicateFinder {
    /// One routed complaint of the batch, as the finder needs it.
    public struct Item: Sendable {
        public let complaintID: Int64
        public let group: DuplicateGroup?
        public let textKeys: [Int32]

        public init(complaintID: Int64, group: DuplicateGroup?, textKeys: [Int32]) {
            self.complaintID = complaintID
            self.group = group
            self.textKeys = textKeys
        }
    }

    /// The link of each item (nil: none reaches `threshold`), in the items' order. An earlier
    /// complaint is one with a smaller id; on equal similarity the older complaint wins, as the
    /// first report of a problem is the one to follow.
    public static func links(for items: [Item], candidates: [DuplicateCandidate], threshold: Double) -> [DuplicateLink?] {
        var byGroup: [DuplicateGroup: [(id: Int64, keys: [Int32])]] = [:]
        for candidate in candidates {
            byGroup[candidate.group, default: []].append((candidate.complaintID, candidate.textKeys))
        }
        // In id order, so that a complaint of the batch can be linked to an earlier one of the batch.
        let order = items.indices.sorted { items[$0].complaintID < items[$1].complaintID }
        var result = [DuplicateLink?](repeating: nil, count: items.count)
        for index in order {
            let item = items[index]
            guard let group = item.group, !item.textKeys.isEmpty else { continue }
            var best: DuplicateLink?
            for earlier in byGroup[group, default: []] where earlier.id < item.complaintID {
                let similarity = TextSimilarity.similarity(item.textKeys, earlier.keys)
                guard similarity >= threshold else { continue }
                if let current = best,
                   similarity < current.similarity || (similarity == current.similarity && earlier.id > current.complaintID) {
                    continue
                }
                best = DuplicateLink(complaintID: earlier.id, similarity: similarity)
            }
            result[index] = best
            byGroup[group, default: []].append((item.complaintID, item.textKeys))
        }
        return result
    }
}
