/// Migration 21: the open complaints in a narrow table of their own, so that routing a complaint
/// rewrites its row in place (a HOT update) instead of adding five index entries.
///
/// Routing changes a complaint's `status` and `department`. While an index of `complaints` named
/// either (`complaints_department_status`, and `complaints_open_by_area` by its predicate), every
/// routed complaint got a new row version elsewhere in the table and one new entry in each of its
/// five indexes: 5 of the 21 index entries a routed complaint cost, in a drain that spends most
/// of the server's time inserting index entries. Now no index of `complaints` names a column that
/// changes after the intake. A HOT update also needs room on the row's page: in service a
/// complaint is routed moments after its insert, while its page is still being filled (1,998 of
/// 2,000 updates HOT in rounds of five inserted then routed, default `fillfactor`). A bulk-loaded
/// backlog's pages are full, so most of its routing is not HOT; `fillfactor` 50 would make it
/// HOT (a backlog drain +4 %) but keep every page of the history half empty for good, which
/// made `rules backtest` read 1,000,000 complaints 1.6 times slower: not taken.
///
/// `open_complaints` holds the assigned and in-progress complaints (a few thousand in a city, not
/// its history), with their text keys: the status trigger adds a complaint when it opens, moves it
/// with its department, and removes it when it is resolved or rejected (other triggers: when it is
/// inserted open, deleted or truncated). The duplicate candidates
/// read it alone (no probe of `routing_decisions` per candidate), and the late complaints start
/// from it instead of the whole history.
enum OpenComplaintsSchema {
    static let migration = Migration(version: 21, name: "open_complaints", sql: sql)

    private static let sql = """
    CREATE TABLE open_complaints (
        complaint_id bigint PRIMARY KEY,
        arrondissement text,
        department text NOT NULL,
        submitted_at timestamptz NOT NULL,
        -- The keys the routing decision kept (NULL for a complaint assigned by hand).
        text_keys integer[]
    );
    CREATE INDEX open_complaints_by_area ON open_complaints (arrondissement, department, submitted_at DESC, complaint_id DESC);

    INSERT INTO open_complaints (complaint_id, arrondissement, department, submitted_at, text_keys)
    SELECT c.id, c.arrondissement, c.department, c.submitted_at, rd.text_keys
    FROM complaints c LEFT JOIN routing_decisions rd ON rd.complaint_id = c.id
    WHERE c.status IN ('assigned', 'in_progress') AND c.department IS NOT NULL;

    ALTER TABLE open_complaints ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_read ON open_complaints FOR SELECT
        TO chikaya_worker, chikaya_notifier, chikaya_admin, chikaya_readonly USING (true);
    CREATE POLICY staff_read ON open_complaints FOR SELECT TO chikaya_staff
        USING (chikaya_staff_may_handle(department, arrondissement));
    GRANT SELECT ON open_complaints TO chikaya_worker, chikaya_notifier, chikaya_staff, chikaya_admin;
    -- The text keys are drawn from the complaint's words, which dashboards never read.
    GRANT SELECT (complaint_id, arrondissement, department, submitted_at) ON open_complaints TO chikaya_readonly;

    DROP INDEX complaints_open_by_area;
    DROP INDEX complaints_department_status;

    -- Migration 19's function, and the open complaints kept with the changes it records.
    CREATE OR REPLACE FUNCTION complaints_record_changes() RETURNS trigger LANGUAGE plpgsql AS $f$
    DECLARE
        v_actor text := chikaya_actor();
        v_queued bigint;
    BEGIN
        WITH versions AS (
            SELECT id, true AS before, status, department, NULL::text AS arrondissement, NULL::boolean AS anonymous,
                   NULL::text AS citizen_email, NULL::text AS citizen_language, NULL::timestamptz AS submitted_at
            FROM changed_old
            UNION ALL
            SELECT id, false, status, department, arrondissement, anonymous, citizen_email,
                   coalesce(notify_language, language), submitted_at
            FROM changed_new
        ), changed AS (
            -- A complaint whose id changed has no pair and no event, as with a join on the id.
            SELECT id, max(status) FILTER (WHERE before) AS from_status, max(status) FILTER (WHERE NOT before) AS to_status,
                   max(department) FILTER (WHERE before) AS from_department,
                   max(department) FILTER (WHERE NOT before) AS to_department,
                   max(arrondissement) AS arrondissement, bool_or(anonymous) AS anonymous,
                   max(citizen_email) AS citizen_email, max(citizen_language) AS citizen_language,
                   max(submitted_at) AS submitted_at
            FROM versions
            GROUP BY id
            HAVING count(*) = 2
        ), recorded AS MATERIALIZED (
            -- Ids in the complaints' order, as the events are written.
            SELECT nextval('complaint_events_id_seq') AS event_id, c.*,
                   c.from_status IN ('assigned', 'in_progress') AS was_open,
                   c.to_status IN ('assigned', 'in_progress') AND c.to_department IS NOT NULL AS is_open
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
        ), opened AS (
            -- The decision's keys (written by the statement that fired this trigger, if any) by a
            -- probe each: OFFSET 0 keeps the probe from becoming a join, which a plan made for a
            -- session's first, empty batch made a walk of every decision ever written.
            INSERT INTO open_complaints (complaint_id, arrondissement, department, submitted_at, text_keys)
            SELECT r.id, r.arrondissement, r.to_department, r.submitted_at, k.text_keys
            FROM recorded r
            LEFT JOIN LATERAL (SELECT rd.text_keys FROM routing_decisions rd WHERE rd.complaint_id = r.id OFFSET 0) k ON true
            WHERE r.is_open AND NOT r.was_open
            ORDER BY r.id
        ), moved AS (
            -- A reassignment (rare, so its speculative insert costs nothing worth saving): one
            -- probe of the key per moved complaint, never a rescan of the changes per row.
            INSERT INTO open_complaints (complaint_id, arrondissement, department, submitted_at, text_keys)
            SELECT r.id, r.arrondissement, r.to_department, r.submitted_at, k.text_keys
            FROM recorded r
            LEFT JOIN LATERAL (SELECT rd.text_keys FROM routing_decisions rd WHERE rd.complaint_id = r.id OFFSET 0) k ON true
            WHERE r.is_open AND r.was_open AND r.from_department IS DISTINCT FROM r.to_department
            ORDER BY r.id
            ON CONFLICT (complaint_id) DO UPDATE SET department = EXCLUDED.department
        ), closed AS (
            DELETE FROM open_complaints o
            WHERE o.complaint_id = ANY (ARRAY(SELECT id FROM recorded WHERE was_open AND NOT is_open))
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

    -- A deleted or truncated complaint is no longer open.
    CREATE FUNCTION open_complaints_deleted() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            TRUNCATE open_complaints;
        ELSE
            DELETE FROM open_complaints o WHERE o.complaint_id IN (SELECT id FROM gone);
        END IF;
        RETURN NULL;
    END $f$;
    CREATE TRIGGER open_complaints_deleted AFTER DELETE ON complaints
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION open_complaints_deleted();
    CREATE TRIGGER open_complaints_truncated AFTER TRUNCATE ON complaints
        FOR EACH STATEMENT EXECUTE FUNCTION open_complaints_deleted();

    -- A complaint inserted open (an import, a restore; never the intake's, whose complaints are
    -- received) is open at once. By row, so that the intake's inserts call nothing.
    CREATE FUNCTION open_complaints_inserted() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        INSERT INTO open_complaints (complaint_id, arrondissement, department, submitted_at, text_keys)
        VALUES (NEW.id, NEW.arrondissement, NEW.department, NEW.submitted_at,
                (SELECT rd.text_keys FROM routing_decisions rd WHERE rd.complaint_id = NEW.id));
        RETURN NULL;
    END $f$;
    CREATE TRIGGER open_complaints_inserted AFTER INSERT ON complaints
        FOR EACH ROW WHEN (NEW.status IN ('assigned', 'in_progress') AND NEW.department IS NOT NULL)
        EXECUTE FUNCTION open_complaints_inserted();

    -- CREATE OR REPLACE resets both; the owner and the grants (none) are kept.
    DO $$
    DECLARE
        r record;
    BEGIN
        FOR r IN SELECT unnest(ARRAY['complaints_record_changes()', 'open_complaints_deleted()',
                                     'open_complaints_inserted()']) AS name
        LOOP
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.name, current_schema());
        END LOOP;
    END $$;

    -- The late complaints start from the open ones, not from every complaint ever filed; the
    -- join keeps the reader's view of complaints (row-level security) and their current status.
    CREATE OR REPLACE FUNCTION late_complaints_at(p_at timestamptz)
    RETURNS TABLE (complaint_id bigint, reference text, department text, arrondissement text, status text,
                   target text, assigned_at timestamptz, due_at timestamptz, days_late integer)
    LANGUAGE sql STABLE AS $$
        WITH open AS (
            SELECT c.id, c.reference, c.department, c.arrondissement, c.status,
                   complaint_assigned_at(c.id) AS assigned_at, d.first_action_days, d.resolution_days
            FROM open_complaints oc
            JOIN complaints c ON c.id = oc.complaint_id
            JOIN departments d ON d.code = c.department
            WHERE c.status IN ('assigned', 'in_progress')
        ), due AS (
            SELECT o.*, 'first_action'::text AS target,
                   o.assigned_at + make_interval(days => o.first_action_days) AS due_at
            FROM open o WHERE o.status = 'assigned' AND o.first_action_days IS NOT NULL
            UNION ALL
            SELECT o.*, 'resolution'::text, o.assigned_at + make_interval(days => o.resolution_days)
            FROM open o WHERE o.resolution_days IS NOT NULL
        )
        SELECT id, reference, department, arrondissement, status, target, assigned_at, due_at,
               floor(extract(epoch FROM p_at - due_at) / 86400)::integer
        FROM due WHERE p_at > due_at
    $$;
    """
}
