/// Migration 15: a routing batch's transaction no longer sends NOTIFY; the worker wakes the
/// notifier right after its commit instead.
///
/// PostgreSQL serialises the commits of all transactions that sent NOTIFY on one lock, held from
/// before the commit record is written until the transaction ends, so across its WAL flush.
/// Every intake of a complaint notifies the workers (`complaints_enqueue`), and every routing
/// batch that queued notifications notified the notifier: the two waited for each other's disk
/// flush (in `scripts/bench-route`'s latency run, 500 complaints/s, the routing commits spent as
/// long waiting for that lock as for their own flush, and the intake's commits a sixth of their
/// time), and their flushes could never be shared.
///
/// `complaints_record_changes` now leaves the NOTIFY out when the transaction says its caller
/// will send it after the commit (`chikaya.notify_after_commit = 'on'`, transaction-local, set by
/// the worker's batch write), and marks the session instead (`chikaya.notifications_queued`,
/// kept past the commit, taken back by a rollback). The worker's next statement, in the same
/// round trip as its COMMIT, sends the NOTIFY in a transaction of its own that does not wait for
/// the disk, so it holds the lock for microseconds. Every other writer (staff, mail-in, SQL
/// from another system) sets nothing and notifies in its own transaction as before. A worker that
/// dies between its commit and that statement leaves the notifier to its poll (at most
/// `notifier.poll_seconds`); the notification rows themselves are committed with the decision.
enum RoutingNotifySchema {
    static let migration = Migration(version: 15, name: "routing_notify_after_commit", sql: sql)

    private static let sql = """
    CREATE OR REPLACE FUNCTION complaints_record_changes() RETURNS trigger LANGUAGE plpgsql AS $f$
    DECLARE
        v_actor text := chikaya_actor();
        v_queued bigint;
    BEGIN
        WITH changed AS (
            SELECT n.id, o.status AS from_status, n.status AS to_status, o.department AS from_department,
                   n.department AS to_department, n.arrondissement, n.anonymous, n.citizen_email,
                   coalesce(n.notify_language, n.language) AS citizen_language
            FROM changed_new n JOIN changed_old o ON o.id = n.id
            WHERE o.status IS DISTINCT FROM n.status OR o.department IS DISTINCT FROM n.department
        ), events AS (
            INSERT INTO complaint_events (complaint_id, from_status, to_status, from_department, to_department, actor, note)
            SELECT id, from_status, to_status, from_department, to_department, v_actor,
                   nullif(current_setting('chikaya.note', true), '')
            FROM changed
            ORDER BY id
            RETURNING id AS event_id, complaint_id
        ), recorded AS (
            SELECT e.event_id, c.* FROM events e JOIN changed c ON c.id = e.complaint_id
        ), to_citizens AS (
            INSERT INTO notifications (complaint_id, event_id, recipient_kind, recipient, template, language)
            SELECT id, event_id, 'citizen', citizen_email,
                   CASE WHEN to_status = 'assigned' AND to_department = 'triage' THEN 'triage' ELSE to_status END,
                   citizen_language
            FROM recorded
            WHERE NOT anonymous AND citizen_email IS NOT NULL AND btrim(citizen_email) <> ''
            ORDER BY id
            RETURNING 1
        ), to_offices AS MATERIALIZED (
            -- Assigned (out of 'received') or moved to another department; the office's address
            -- chosen as department_contact_for chooses it (the arrondissement's office first).
            SELECT r.*, contact.email AS contact
            FROM recorded r
            LEFT JOIN LATERAL (
                SELECT dc.email FROM department_contacts dc
                WHERE dc.department = r.to_department AND (dc.arrondissement = r.arrondissement OR dc.arrondissement IS NULL)
                ORDER BY dc.arrondissement NULLS LAST
                LIMIT 1
            ) contact ON true
            WHERE r.to_department IS NOT NULL AND r.to_status <> 'received'
              AND (r.from_status = 'received' OR r.from_department IS DISTINCT FROM r.to_department)
        ), superseded AS (
            -- A move to another department supersedes whatever still waited for the previous
            -- one (a complaint leaving 'received' was never assigned, so nothing waits for it).
            -- By the ids (an index lookup each), never a walk of the whole table.
            DELETE FROM department_deliveries_waiting w
            WHERE w.complaint_id = ANY (ARRAY(SELECT id FROM to_offices WHERE from_status <> 'received'))
        ), waiting AS (
            INSERT INTO department_deliveries_waiting (event_id, complaint_id, department, arrondissement)
            SELECT event_id, id, to_department, arrondissement FROM to_offices WHERE contact IS NULL ORDER BY id
        ), delivered AS (
            -- Each event is new in this statement: no delivery of it can exist yet.
            INSERT INTO notifications (complaint_id, event_id, recipient_kind, recipient, template, language)
            SELECT o.id, o.event_id, 'department', o.contact, 'department_assigned', d.working_language
            FROM to_offices o JOIN departments d ON d.code = o.to_department
            WHERE o.contact IS NOT NULL
            ORDER BY o.id
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM to_citizens) + (SELECT count(*) FROM delivered) INTO v_queued;
        IF v_queued > 0 THEN
            IF current_setting('chikaya.notify_after_commit', true) = 'on' THEN
                -- The caller wakes the notifier itself once this transaction is committed. Set
                -- for the session, so that it outlives the commit: a rollback takes it back.
                PERFORM set_config('chikaya.notifications_queued', 'on', false);
            ELSE
                PERFORM pg_notify('chikaya_notifications', '');
            END IF;
        END IF;
        RETURN NULL;
    END $f$;

    -- CREATE OR REPLACE resets both; the owner and the grants (none) are kept.
    DO $$
    BEGIN
        EXECUTE format('ALTER FUNCTION complaints_record_changes() SECURITY DEFINER SET search_path = %I, pg_temp',
                       current_schema());
    END $$;
    """
}
