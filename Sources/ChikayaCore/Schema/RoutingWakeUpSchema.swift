/// Migration 16: the intake's routing notice carries its transaction's id.
///
/// Every worker loop listens on `chikaya_routing` and receives every notice; with two idle loops
/// both claimed on each one, and one of them found nothing (more than half of all claims at 500
/// complaints/s in `scripts/bench-route`'s latency run). With the transaction's id as payload a
/// process's loops tell one notice from the next (`WakeUpLedger`), and only the first loop to
/// hold it claims. PostgreSQL still folds the notices of one transaction into one: the payload
/// is the same for every row it inserts.
enum RoutingWakeUpSchema {
    static let migration = Migration(version: 16, name: "routing_notice_transaction", sql: sql)

    private static let sql = """
    CREATE OR REPLACE FUNCTION complaints_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO routing_queue (complaint_id) VALUES (NEW.id);
        PERFORM pg_notify('chikaya_routing', pg_current_xact_id()::text);
        RETURN NULL;
    END $$;

    -- CREATE OR REPLACE resets both; the owner and the grants are kept.
    DO $$
    BEGIN
        EXECUTE format('ALTER FUNCTION complaints_enqueue() SECURITY DEFINER SET search_path = %I, pg_temp', current_schema());
    END $$;
    """
}
