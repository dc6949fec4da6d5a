/// Migration 24: the routing worker may read the address of a complaint's row version (`ctid`),
/// so that a batch's finish updates each complaint it found once by that address instead of a
/// second lookup by `id = ANY (batch)`.
///
/// Over 1,000,000 routed complaints the planner took the batch's decisions for one row and
/// probed the primary key once per decision with the whole array of ids as a key, prepared
/// again at every probe: 16 of the update's 26 ms a batch of 1000 (auto_explain), quadratic in
/// the batch. The address reveals nothing but where a row sits; the worker's other columns
/// are as before (SecuritySchema).
enum RoutingRowAddressSchema {
    static let migration = Migration(version: 24, name: "routing_row_address", sql: sql)

    private static let sql = """
    GRANT SELECT (ctid) ON complaints TO chikaya_worker;
    """
}
