/// Migration 5: an index for the claim's sweep of exhausted entries.
///
/// Every claim first marks as dead the due entries whose attempts are used up
/// (`attempts >= max_attempts`, their lease expired). `routing_queue_due` is ordered by
/// `available_at`, so that sweep had to read every due entry to find none: with 100,000 complaints
/// waiting, each claim read the whole queue (7 ms with fresh statistics, 80 ms with stale ones, a
/// bitmap scan and an on-disk sort) and the drain ran at a few thousand complaints per second.
/// Led by `attempts`, the sweep reads only the exhausted entries, normally none.
enum RoutingClaimIndexSchema {
    static let migration = Migration(version: 5, name: "routing_claim_index", sql: sql, asOwner: false)

    private static let sql = """
    CREATE INDEX routing_queue_exhausted ON routing_queue (attempts, available_at) WHERE state = 'pending';
    """
}
