/// Migration 18: a submission's queue entries are written once per statement, not once per row.
///
/// `complaints_enqueue` ran for every row inserted: a PL/pgSQL call, an INSERT of one queue entry
/// and a `pg_notify` each, 0.1 ms a row, inside the intake's transaction and so on the way of every
/// complaint from its submission to its decision (the intake's INSERT of five complaints took
/// 1.1 ms, half of it this trigger; the app and `chikaya submit` insert several at a time). Now
/// one trigger call per statement enqueues every row the statement inserted, and sends the one
/// notice (the same payload, the transaction's id, as migration 16).
enum RoutingEnqueueSchema {
    static let migration = Migration(version: 18, name: "routing_enqueue_per_statement", sql: sql)

    private static let sql = """
    DROP TRIGGER complaints_enqueue ON complaints;

    CREATE OR REPLACE FUNCTION complaints_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO routing_queue (complaint_id) SELECT id FROM submitted ORDER BY id;
        IF FOUND THEN
            PERFORM pg_notify('chikaya_routing', pg_current_xact_id()::text);
        END IF;
        RETURN NULL;
    END $$;

    -- CREATE OR REPLACE resets both; the owner and the grants are kept.
    DO $$
    BEGIN
        EXECUTE format('ALTER FUNCTION complaints_enqueue() SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
    END $$;

    CREATE TRIGGER complaints_enqueue AFTER INSERT ON complaints REFERENCING NEW TABLE AS submitted
        FOR EACH STATEMENT EXECUTE FUNCTION complaints_enqueue();
    """
}
