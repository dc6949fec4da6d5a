/// Migration 23: `complaint_events_at` goes; no statement of the product reads events by time.
///
/// Every routed complaint added an entry to it (one of the 21 index entries a routed complaint
/// cost, 64 bytes of its 3.6 KB of WAL). The statistics read the first resolution of each
/// complaint through `complaint_events_complaint`, the audit reads a complaint's events by its
/// id; an operator's search of events by time walks the table, as it would any other column.
enum UnreadEventIndexSchema {
    static let migration = Migration(version: 23, name: "drop_unread_event_index", sql: sql)

    private static let sql = """
    DROP INDEX complaint_events_at;
    """
}
