import Postgres

/// The audit trails the triggers write (`complaint_events`, `department_contact_changes`) as the
/// stores see them: what a transaction tells the triggers, and the one definition of a routing
/// corrected by hand.
enum AuditTrail {
    /// Tells the audit triggers why this transaction's changes are made (`chikaya.note`), and,
    /// for the router, which process makes them (`chikaya.process`: a worker login is recorded
    /// as `router:<process>`). Transaction-local, so nothing leaks into the connection's next
    /// transaction; a nil note is set empty so no earlier value of the session is read. Who acts
    /// is the database's to record (`chikaya_actor()`), never the client's.
    static func describe(note: String?, process: String? = nil, on db: PostgresConnection) throws(PostgresError) {
        // Prepared: the router says it for every batch.
        if let process {
            try db.query(prepared: "audit_note_process",
                         "SELECT set_config('chikaya.note', $1, true), set_config('chikaya.process', $2, true)",
                         [note ?? "", process])
        } else {
            try db.query(prepared: "audit_note", "SELECT set_config('chikaya.note', $1, true)", [note ?? ""])
        }
    }

    /// `describe` as a statement, to be sent with others in one round trip (a pipeline).
    static func describeStatement(note: String?, process: String) -> PostgresStatement {
        PostgresStatement("SELECT set_config('chikaya.note', $1, true), set_config('chikaya.process', $2, true)",
                          [note ?? "", process])
    }

    /// SQL true when the complaint whose id is the expression `complaintID` was moved to another
    /// department after it left `received`, by anyone but the router: the routing error seen in
    /// practice, counted by `stats` and replayed by `rules backtest`.
    static func correctedByHand(complaintID: String) -> String {
        """
        EXISTS (SELECT 1 FROM complaint_events e
                WHERE e.complaint_id = \(complaintID) AND \(correctingEvent))
        """
    }

    /// The same as a set: SQL selecting the ids of the complaints corrected by hand among those
    /// whose ids lie from `lower` up to below `upper` (SQL expressions). Read once per range
    /// through the index on complaint_events (complaint_id), where `correctedByHand` in a
    /// select list over many rows is planned as one scan of every event.
    static func correctedByHand(idsFrom lower: String, below upper: String) -> String {
        """
        SELECT e.complaint_id FROM complaint_events e
        WHERE e.complaint_id >= \(lower) AND e.complaint_id < \(upper) AND \(correctingEvent)
        """
    }

    /// An event of `complaint_events e` that corrects a routing.
    private static let correctingEvent =
        "e.from_status <> 'received' AND e.from_department IS DISTINCT FROM e.to_department"
}
