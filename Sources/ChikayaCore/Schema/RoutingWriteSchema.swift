/// Migration 13: what a routing batch's write still did per row, or did twice, is done once.
///
/// Profiled on the city run of `scripts/bench-route` (20,000 complaints, `track_functions = all`):
/// - `notifications_skip_suppressed`, a BEFORE INSERT row trigger, ran for each of the 31,365
///   notifications at 22 µs a call, 15 % of the batches' database time: a SECURITY DEFINER
///   function with a pinned `search_path` sets and restores that setting on every call, and its
///   one lookup is planned and run through SPI row by row. It is replaced by an AFTER INSERT
///   statement-level trigger that marks, in one UPDATE per statement, the new pending rows whose
///   recipient is on the suppression list. What a reader sees is the same: the insert and the
///   mark are one statement, so no other transaction (the notifier) ever sees such a row pending,
///   and every later statement of the inserting transaction sees it suppressed. Only the
///   inserting statement's own RETURNING would still show `pending`; none of the inserts reads
///   the status back.
/// - `department_contact_for`, called per routed complaint by `complaints_record_changes` (12 µs a
///   call through the SQL-function executor): the same lookup (the arrondissement's office before
///   the department's default one) is now a lateral join of the trigger's statement. The
///   function stays for its other callers.
/// - `routing_decisions.matches` becomes `json` (it was `jsonb`): turning the batch's text into
///   jsonb, parsing every match's numbers as `numeric` and sorting every match's keys, was 12 %
///   of the server's CPU for the batch (perf). Nothing queries into the matches: every reader
///   takes them as text and decodes them in Swift (`DecisionMatch.decode`), and json keeps the
///   worker's text as written (validated, not rebuilt). Existing rows are rewritten once with
///   jsonb's text of them, which reads the same.
enum RoutingWriteSchema {
    static let migration = Migration(version: 13, name: "routing_write_costs", sql: sql)

    private static let sql = """
    ALTER TABLE routing_decisions ALTER COLUMN matches TYPE json USING matches::json;

    DROP TRIGGER notifications_skip_suppressed ON notifications;
    DROP FUNCTION notifications_skip_suppressed();

    CREATE FUNCTION notifications_mark_suppressed() RETURNS trigger LANGUAGE plpgsql AS $f$
    DECLARE
        v_id bigint;
        v_reason text;
    BEGIN
        -- One index probe of the list per new row, and one update by id per suppressed one,
        -- whatever the statistics say: as a join, a fresh install's planner (tables never
        -- analyzed) walked the whole of `notifications` on every routing batch.
        FOR v_id, v_reason IN
            SELECT i.id, s.reason FROM inserted i
            CROSS JOIN LATERAL (SELECT reason FROM suppressed_addresses WHERE address = lower(i.recipient) LIMIT 1) s
            WHERE i.status = 'pending'
        LOOP
            UPDATE notifications SET status = 'suppressed', last_error = 'address suppressed (' || v_reason || ')'
            WHERE id = v_id AND status = 'pending';
        END LOOP;
        RETURN NULL;
    END $f$;

    CREATE TRIGGER notifications_mark_suppressed AFTER INSERT ON notifications
        REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION notifications_mark_suppressed();

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
            -- A reassignment supersedes whatever still waited for the previous department.
            -- By the ids (an index lookup each), never a walk of the whole table.
            DELETE FROM department_deliveries_waiting w WHERE w.complaint_id = ANY (ARRAY(SELECT id FROM to_offices))
        ), waiting AS (
            INSERT INTO department_deliveries_waiting (event_id, complaint_id, department, arrondissement)
            SELECT event_id, id, to_department, arrondissement FROM to_offices WHERE contact IS NULL ORDER BY id
        ), delivered AS (
            INSERT INTO notifications (complaint_id, event_id, recipient_kind, recipient, template, language)
            SELECT o.id, o.event_id, 'department', o.contact, 'department_assigned', d.working_language
            FROM to_offices o JOIN departments d ON d.code = o.to_department
            WHERE o.contact IS NOT NULL
            ORDER BY o.id
            ON CONFLICT ON CONSTRAINT notifications_once_per_event DO NOTHING
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
        FOR r IN SELECT unnest(ARRAY['notifications_mark_suppressed()', 'complaints_record_changes()']) AS name
        LOOP
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.name, current_schema());
        END LOOP;
    END $$;
    """
}
