import Synchronization

/// Which wake-ups of `NOTIFY chikaya_routing` a loop of this process has already answered, so
/// that one notice sends one loop to claim instead of every idle one.
///
/// Every loop listens on its own connection and so receives every notice. The intake's notice
/// carries its transaction's id (migration 16); a loop that takes a notice first claims after it
/// arrived, so after the complaints it announces were committed: that claim gets them (or they are
/// already held by another claim in flight). A second loop holding the same notice has nothing
/// to find and goes back to waiting. At 500 complaints/s with two idle loops, the loser's empty
/// claim was more than half of all claims. A notice without an id (another sender) is always
/// answered. Kept for the last `capacity` ids: a loop that sees a notice later than that claims
/// once too often, nothing worse.
final class WakeUpLedger: Sendable {
    private struct Seen {
        var ids = Set<String>()
        var order: [String] = []
        var next = 0
    }

    private let seen = Mutex(Seen())
    let capacity: Int

    init(capacity: Int = 4_096) {
        self.capacity = max(capacity, 1)
    }

    /// Records the notices' ids as answered by the caller's next claim; true when at least one of
    /// them was not answered yet (or carries no id), that is, when the caller should claim.
    func take(_ payloads: [String]) -> Bool {
        seen.withLock { seen in
            var fresh = false
            for id in payloads {
                guard !id.isEmpty else {
                    fresh = true
                    continue
                }
                guard seen.ids.insert(id).inserted else { continue }
                fresh = true
                if seen.order.count < capacity {
                    seen.order.append(id)
                } else {
                    seen.ids.remove(seen.order[seen.next])
                    seen.order[seen.next] = id
                    seen.next = (seen.next + 1) % capacity
                }
            }
            return fresh
        }
    }
}
