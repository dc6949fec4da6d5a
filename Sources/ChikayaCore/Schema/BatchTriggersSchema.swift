/// Migration 10: a batch of routed complaints writes its history in one statement per table.
///
/// Until now two row-level triggers (`complaints_record_change`, `complaints_to_department`)
/// ran for every complaint of a routing batch, each of their statements planned and executed
/// once per row, and every event insert ran `chikaya_stamp_actor` (a jsonb round trip and
/// `chikaya_actor()`'s role lookups) again. In `scripts/bench-route` they were 80 % of a batch's
/// database time. One statement-level trigger with transition tables now writes, for the whole
/// UPDATE: the events, the citizens' notifications, the office deliveries (or the waiting rows of
/// offices without a contact), and one `pg_notify`. The guarantees are the same: an event per
/// real change of status or department, one citizen notification per event for a citizen with an
/// email who is not anonymous, one office delivery per assignment or move to another department,
/// a waiting row replacing the previous one; the unique indexes still refuse a second of each.
///
/// A trigger with transition tables cannot name columns, so it fires after every UPDATE of
/// `complaints`; it writes nothing when no status or department changed.
///
/// The actor is computed once per statement with `chikaya_actor()`, from the session as before.
/// `complaint_events_actor` now stamps only the inserts made at trigger depth 0, i.e. directly by
/// a statement: no role is granted INSERT on `complaint_events`, so every insert made at a deeper
/// level comes from a trigger of the schema's owner, and the only one (this one) stamps
/// `chikaya_actor()` itself.
///
/// Three foreign keys that a routed complaint checked on every row and that protect nothing the
/// others do not are dropped (each check is a trigger call and a locking lookup):
/// - `notifications.complaint_id` and `department_deliveries_waiting.complaint_id`: every such row
///   hangs off an event (or, for a notification, a note) whose own key cascades from the
///   complaint, and only the schema owner's functions insert them;
/// - `routing_decisions.department`: the same statement sets the complaint's department to it,
///   and `complaints.department` keeps its key; no command deletes a department.
enum BatchTriggersSchema {
    static let migration = Migration(version: 10, name: "batch_triggers", sql: sql)

    private static let sql = """
    DROP TRIGGER complaints_record_change ON complaints;
    DROP TRIGGER complaints_to_department ON complaints;
    DROP FUNCTION complaints_record_change();
    DROP FUNCTION complaints_to_department();

    CREATE FUNCTION complaints_record_changes() RETURNS trigger LANGUAGE plpgsql AS $f$
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
            -- Assigned (out of 'received') or moved to another department.
            SELECT r.*, department_contact_for(r.to_department, r.arrondissement) AS contact
            FROM recorded r
            WHERE r.to_department IS NOT NULL AND r.to_status <> 'received'
              AND (r.from_status = 'received' OR r.from_department IS DISTINCT FROM r.to_department)
        ), superseded AS (
            -- A reassignment supersedes whatever still waited for the previous department.
            DELETE FROM department_deliveries_waiting w USING to_offices o WHERE w.complaint_id = o.id
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

    CREATE TRIGGER complaints_record_changes AFTER UPDATE ON complaints
        REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
        FOR EACH STATEMENT EXECUTE FUNCTION complaints_record_changes();

    ALTER TABLE notifications DROP CONSTRAINT notifications_complaint_id_fkey;
    ALTER TABLE department_deliveries_waiting DROP CONSTRAINT department_deliveries_waiting_complaint_id_fkey;
    ALTER TABLE routing_decisions DROP CONSTRAINT routing_decisions_department_fkey;

    DROP TRIGGER complaint_events_actor ON complaint_events;
    CREATE TRIGGER complaint_events_actor BEFORE INSERT ON complaint_events
        FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION chikaya_stamp_actor('actor');

    DO $$
    BEGIN
        EXECUTE format('ALTER FUNCTION complaints_record_changes() SECURITY DEFINER SET search_path = %I, pg_temp',
                       current_schema());
    END $$;
    """
}
