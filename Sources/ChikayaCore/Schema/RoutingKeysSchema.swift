/// Migration 14: the foreign keys a routed complaint checked row by row, where no statement of
/// the product can break what they guarded; what they did on delete is kept by triggers.
///
/// Profiled on the city run of `scripts/bench-route` (50,000 complaints, `pg_stat_statements`):
/// a routed complaint ran six key checks, each a trigger call, a planned lookup through SPI and a
/// row lock, most of them a WAL record of its own (the complaint's new row version, each new
/// event): 300,000 checks, 4.5 MB of WAL. For each dropped key, why the insert side needs no check:
/// - `routing_decisions.complaint_id`: the worker's finish statement decides only complaints it
///   has just read `received` and holds `FOR UPDATE`; a worker login's own statement is held by
///   the restrictive policy `worker_decides_received` below (an index probe, no lock).
/// - `routing_decisions.duplicate_of`: the link is advice, chosen among open complaints read a
///   moment before; the same policy requires it to name a complaint. Its check also shared the
///   linked complaint's row, so a department's system holding that row `FOR UPDATE` made the
///   batch wait (the worker had a savepoint and a lock timeout for it): no longer.
/// - `complaint_events.complaint_id`: no role inserts events; the owner's statement trigger
///   writes them for rows of `complaints` its UPDATE has just changed (and so holds).
/// - `notifications.event_id`, `department_deliveries_waiting.event_id`: only the owner's
///   functions insert those rows, with the id of an event just written or of a waiting row.
/// Kept: `complaints.department` (staff and mail commands name departments), the arrondissement
/// keys, and every key of a table the roles write themselves.
///
/// What the keys did on delete, the triggers do, in one statement per table for a whole DELETE:
/// a deleted complaint takes its events, decision (and a link to it becomes NULL), and a deleted
/// event its notifications and waiting delivery. No role may delete complaints or events; the
/// owner and superusers (an administrator's purge) may. `TRUNCATE complaints ... CASCADE`, which
/// followed the keys, takes the same tables through a TRUNCATE trigger.
///
/// `routing_decisions_duplicate_of` served only the key's delete action: every reader reaches a
/// link from the decision. Dropped: one index entry fewer per linked complaint; a delete of
/// complaints reads the decisions once per statement instead.
///
/// Also: `complaints_check_transition` is not called for the router's move (`received` to
/// `assigned` with a department), the one move it always allows; and a routing batch no longer
/// looks up waiting deliveries of complaints that leave `received` (they never had one), nor
/// inserts the offices' notifications as a speculative insert (`ON CONFLICT`): their event is
/// new in the same statement, nothing can conflict.
enum RoutingKeysSchema {
    static let migration = Migration(version: 14, name: "routing_write_keys", sql: sql)

    private static let sql = """
    ALTER TABLE routing_decisions
        DROP CONSTRAINT routing_decisions_complaint_id_fkey,
        DROP CONSTRAINT routing_decisions_duplicate_of_fkey;
    ALTER TABLE complaint_events DROP CONSTRAINT complaint_events_complaint_id_fkey;
    ALTER TABLE notifications DROP CONSTRAINT notifications_event_id_fkey;
    ALTER TABLE department_deliveries_waiting DROP CONSTRAINT department_deliveries_waiting_event_id_fkey;
    DROP INDEX routing_decisions_duplicate_of;

    CREATE POLICY worker_decides_received ON routing_decisions AS RESTRICTIVE FOR INSERT TO chikaya_worker
        WITH CHECK (EXISTS (SELECT 1 FROM complaints c WHERE c.id = complaint_id AND c.status = 'received')
                    AND (duplicate_of IS NULL OR EXISTS (SELECT 1 FROM complaints d WHERE d.id = duplicate_of)));

    CREATE FUNCTION complaints_deleted() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        DELETE FROM complaint_events e WHERE e.complaint_id IN (SELECT id FROM gone);
        DELETE FROM routing_decisions d WHERE d.complaint_id IN (SELECT id FROM gone);
        UPDATE routing_decisions d SET duplicate_of = NULL WHERE d.duplicate_of IN (SELECT id FROM gone);
        RETURN NULL;
    END $f$;

    CREATE TRIGGER complaints_deleted AFTER DELETE ON complaints
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION complaints_deleted();

    CREATE FUNCTION complaint_events_deleted() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        DELETE FROM notifications n WHERE n.event_id IN (SELECT id FROM gone);
        DELETE FROM department_deliveries_waiting w WHERE w.event_id IN (SELECT id FROM gone);
        RETURN NULL;
    END $f$;

    CREATE TRIGGER complaint_events_deleted AFTER DELETE ON complaint_events
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION complaint_events_deleted();

    -- A table the same TRUNCATE names is in use by it (SQLSTATE 55006): it is emptied already.
    CREATE FUNCTION complaints_truncated() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        IF TG_TABLE_NAME = 'complaints' THEN
            BEGIN
                TRUNCATE routing_decisions;
            EXCEPTION WHEN object_in_use THEN
                NULL;
            END;
            BEGIN
                TRUNCATE complaint_events;
            EXCEPTION WHEN object_in_use THEN
                NULL;
            END;
        ELSE
            DELETE FROM notifications WHERE event_id IS NOT NULL;
            BEGIN
                TRUNCATE department_deliveries_waiting;
            EXCEPTION WHEN object_in_use THEN
                NULL;
            END;
        END IF;
        RETURN NULL;
    END $f$;

    CREATE TRIGGER complaints_truncated AFTER TRUNCATE ON complaints
        FOR EACH STATEMENT EXECUTE FUNCTION complaints_truncated();
    CREATE TRIGGER complaint_events_truncated AFTER TRUNCATE ON complaint_events
        FOR EACH STATEMENT EXECUTE FUNCTION complaints_truncated();

    DROP TRIGGER complaints_check_transition ON complaints;
    CREATE TRIGGER complaints_check_transition BEFORE UPDATE OF status, department ON complaints
        FOR EACH ROW WHEN (NOT (OLD.status = 'received' AND NEW.status = 'assigned' AND NEW.department IS NOT NULL))
        EXECUTE FUNCTION complaints_check_transition();

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
            PERFORM pg_notify('chikaya_notifications', '');
        END IF;
        RETURN NULL;
    END $f$;

    DO $$
    DECLARE
        r record;
    BEGIN
        -- CREATE OR REPLACE resets both; the owner and the grants (none) are kept.
        FOR r IN SELECT unnest(ARRAY['complaints_record_changes()', 'complaints_deleted()',
                                     'complaint_events_deleted()', 'complaints_truncated()']) AS name
        LOOP
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.name, current_schema());
        END LOOP;
    END $$;
    """
}
