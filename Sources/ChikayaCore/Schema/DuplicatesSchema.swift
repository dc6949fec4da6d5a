/// Migration 8: possible duplicates, recorded with each routing decision.
///
/// `duplicate_of` is the earlier open complaint of the same arrondissement and department whose
/// text is most alike (null when none reaches the threshold), `duplicate_similarity` how alike
/// (0..1). The link is advice: the complaint is routed and stays its own complaint.
/// `text_keys` are the hashed word keys of `TextSimilarity`, kept so that a later complaint is
/// compared with this one without its text being read or normalised again.
///
/// The worker reads, per arrondissement and department, the newest open complaints
/// (`complaints_open_by_area`: only assigned and in-progress ones are in it, so it stays the
/// size of the open work, not of the history); `routing_decisions_duplicate_of` serves the
/// foreign key when an earlier complaint is deleted.
///
/// Grants (docs/security.md): the worker writes the three columns; the roles that read the whole
/// table (notifier, staff, admin) see them already; the dashboards' role reads the link and its
/// similarity for `stats`, not the keys (they are derived from the complaint's text).
enum DuplicatesSchema {
    static let migration = Migration(version: 8, name: "duplicates", sql: sql)

    private static let sql = """
    ALTER TABLE routing_decisions
        ADD COLUMN duplicate_of bigint REFERENCES complaints (id) ON DELETE SET NULL,
        ADD COLUMN duplicate_similarity double precision
            CONSTRAINT routing_decisions_duplicate_similarity CHECK (duplicate_similarity BETWEEN 0 AND 1),
        ADD COLUMN text_keys integer[];

    CREATE INDEX complaints_open_by_area ON complaints (arrondissement, department, submitted_at DESC, id DESC)
        WHERE status IN ('assigned', 'in_progress');
    CREATE INDEX routing_decisions_duplicate_of ON routing_decisions (duplicate_of) WHERE duplicate_of IS NOT NULL;

    GRANT INSERT (text_keys, duplicate_of, duplicate_similarity) ON routing_decisions TO chikaya_worker;
    GRANT SELECT (duplicate_of, duplicate_similarity) ON routing_decisions TO chikaya_readonly;
    """
}
