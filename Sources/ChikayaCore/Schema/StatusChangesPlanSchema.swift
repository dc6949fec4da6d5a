/// Migration 19: the status trigger's statement costs the same whatever batch its session saw first.
///
/// PL/pgSQL plans a trigger's statement once per session, for the transition tables of the first
/// statement that fired it, and keeps that plan (no setting of `plan_cache_mode` changes this: the
/// statement has no parameters to plan for). A worker's first statement is its warm-up's empty
/// batch or a quiet hour's few complaints; planned for one row, the join of the old versions with
/// the new ones and the join of the new events with the changes were nested loops over
/// tuplestores, quadratic in the batch: a batch of 500 then spent 117 ms of its trigger's 136 in
/// them (the whole trigger 18 ms when its session's first batch was large). Now no step joins two
/// transition tables or two CTEs: the two versions of a complaint meet by one grouping on its id,
/// and each event's id is taken from its sequence before it is written, so the notifications and
/// deliveries read the changes themselves. Same rows written as migration 15's function.
enum StatusChangesPlanSchema {
    static let migration = Migration(version: 19, name: "status_changes_linear_plans", sql: sql)

    private static let sql = """
    CREATE OR REPLACE FUNCTION complaints_record_changes() RETURNS trigger LANGUAGE plpgsql AS $f$
    DECLARE
        v_actor text := chikaya_actor();
        v_queued bigint;
    BEGIN
        WITH versions AS (
            SELECT id, true AS before, status, department, NULL::text AS arrondissement, NULL::boolean AS anonymous,
                   NULL::text AS citizen_email, NULL::text AS citizen_language
            FROM changed_old
            UNION ALL
            SELECT id, false, status, department, arrondissement, anonymous, citizen_email,
                   coalesce(notify_language, language)
            FROM changed_new
        ), changed AS (
            -- A complaint whose id changed has no pair and no event, as with a join on the id.
            SELECT id, max(status) FILTER (WHERE before) AS from_status, max(status) FILTER (WHERE NOT before) AS to_status,
                   max(department) FILTER (WHERE before) AS from_department,
                   max(department) FILTER (WHERE NOT before) AS to_department,
                   max(arrondissement) AS arrondissement, bool_or(anonymous) AS anonymous,
                   max(citizen_email) AS citizen_email, max(citizen_language) AS citizen_language
            FROM versions
            GROUP BY id
            HAVING count(*) = 2
        ), recorded AS MATERIALIZED (
            -- Ids in the complaints' order, as the events are written.
            SELECT nextval('complaint_events_id_seq') AS event_id, c.*
            FROM (SELECT * FROM changed
                  WHERE from_status IS DISTINCT FROM to_status OR from_department IS DISTINCT FROM to_department
                  ORDER BY id) c
        ), events AS (
            INSERT INTO complaint_events (id, complaint_id, from_status, to_status, from_department, to_department, actor, note)
            OVERRIDING SYSTEM VALUE
            SELECT event_id, id, from_status, to_status, from_department, to_department, v_actor,
                   nullif(current_setting('chikaya.note', true), '')
            FROM recorded
            ORDER BY id
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
