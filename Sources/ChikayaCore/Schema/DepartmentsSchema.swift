/// Migration 4: departments receive their complaints.
///
/// - `department_contacts`: one address per (department, arrondissement); the row with no
///   arrondissement is the department's default office. Every insert, update and delete is
///   audited in `department_contact_changes` by a trigger, so a change made with plain SQL is
///   recorded too (actor from `chikaya.actor`, like complaint changes).
/// - per-department settings on `departments`: working language, Reply-To, and the deadlines in
///   days (to first action, to resolution), seeded by `chikaya departments sync`.
/// - delivery: a second trigger on `complaints`, after `complaints_record_change` (triggers of one
///   event fire in name order), queues ONE 'department' notification per assignment or
///   reassignment for the event just recorded. A separate trigger rather than a new version of
///   `complaints_record_change`, so another migration may replace that function without undoing
///   department delivery.
/// - without a contact, the assignment waits in `department_deliveries_waiting`; adding the
///   contact (any way) queues the waiting deliveries it covers.
/// - `late_complaints_at(ts)` and the view `late_complaints`: which target is missed, by how long.
/// - `digests_sent`: one digest per office and day.
enum DepartmentsSchema {
    static let migration = Migration(version: 4, name: "departments", sql: sql, asOwner: false)

    private static let sql = """
    ALTER TABLE departments
        ADD COLUMN working_language text NOT NULL DEFAULT 'fr'
            CONSTRAINT departments_working_language CHECK (working_language IN ('ar', 'fr')),
        ADD COLUMN reply_to text
            CONSTRAINT departments_reply_to CHECK (reply_to ~ '^[^@[:space:]<>]+@[^@[:space:]<>]+$'),
        ADD COLUMN first_action_days integer
            CONSTRAINT departments_first_action_days CHECK (first_action_days BETWEEN 1 AND 365),
        ADD COLUMN resolution_days integer
            CONSTRAINT departments_resolution_days CHECK (resolution_days BETWEEN 1 AND 3650);

    CREATE TABLE department_contacts (
        department text NOT NULL REFERENCES departments (code),
        -- NULL: the department's default office, for every arrondissement without its own.
        arrondissement text REFERENCES arrondissements (code),
        email text NOT NULL
            CONSTRAINT department_contacts_email CHECK (email ~ '^[^@[:space:]<>]+@[^@[:space:]<>]+$'),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT department_contacts_office UNIQUE NULLS NOT DISTINCT (department, arrondissement)
    );

    CREATE TABLE department_contact_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        department text NOT NULL,
        arrondissement text,
        old_email text,
        new_email text,
        actor text NOT NULL,
        note text,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
    );

    CREATE INDEX department_contact_changes_office ON department_contact_changes (department, arrondissement, id);

    -- Assignments made while the office had no contact: nothing was queued, nothing is lost.
    CREATE TABLE department_deliveries_waiting (
        event_id bigint PRIMARY KEY REFERENCES complaint_events (id) ON DELETE CASCADE,
        complaint_id bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
        department text NOT NULL,
        arrondissement text,
        since timestamptz NOT NULL DEFAULT now()
    );

    CREATE INDEX department_deliveries_waiting_office ON department_deliveries_waiting (department, arrondissement);
    CREATE INDEX department_deliveries_waiting_complaint ON department_deliveries_waiting (complaint_id);

    -- The office that receives a department's complaints from an arrondissement: its own
    -- contact, else the default one, else none.
    CREATE FUNCTION department_contact_for(p_department text, p_arrondissement text) RETURNS text
    LANGUAGE sql STABLE AS $$
        SELECT email FROM department_contacts
        WHERE department = p_department AND (arrondissement = p_arrondissement OR arrondissement IS NULL)
        ORDER BY arrondissement NULLS LAST
        LIMIT 1
    $$;

    -- The arrondissement whose contact serves the complaint, or NULL for the default office.
    CREATE FUNCTION department_office_for(p_department text, p_arrondissement text) RETURNS text
    LANGUAGE sql STABLE AS $$
        SELECT arrondissement FROM department_contacts
        WHERE department = p_department AND arrondissement = p_arrondissement
    $$;

    CREATE FUNCTION complaints_to_department() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        v_event bigint;
        v_contact text;
        v_language text;
    BEGIN
        -- complaints_record_change ran just before (name order) and wrote this change's event.
        SELECT id INTO v_event FROM complaint_events WHERE complaint_id = NEW.id ORDER BY id DESC LIMIT 1;
        -- A reassignment supersedes whatever still waited for the previous department.
        DELETE FROM department_deliveries_waiting WHERE complaint_id = NEW.id;
        v_contact := department_contact_for(NEW.department, NEW.arrondissement);
        IF v_contact IS NULL THEN
            INSERT INTO department_deliveries_waiting (event_id, complaint_id, department, arrondissement)
            VALUES (v_event, NEW.id, NEW.department, NEW.arrondissement);
            RETURN NULL;
        END IF;
        SELECT working_language INTO v_language FROM departments WHERE code = NEW.department;
        INSERT INTO notifications (complaint_id, event_id, recipient_kind, recipient, template, language)
        VALUES (NEW.id, v_event, 'department', v_contact, 'department_assigned', v_language)
        ON CONFLICT ON CONSTRAINT notifications_once_per_event DO NOTHING;
        PERFORM pg_notify('chikaya_notifications', '');
        RETURN NULL;
    END $$;

    -- Assigned (out of 'received') or moved to another department.
    CREATE TRIGGER complaints_to_department AFTER UPDATE OF status, department ON complaints
        FOR EACH ROW
        WHEN (NEW.department IS NOT NULL AND NEW.status <> 'received'
              AND (OLD.status = 'received' OR OLD.department IS DISTINCT FROM NEW.department))
        EXECUTE FUNCTION complaints_to_department();

    CREATE FUNCTION department_contacts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        v_department text := CASE WHEN TG_OP = 'DELETE' THEN OLD.department ELSE NEW.department END;
        v_arrondissement text := CASE WHEN TG_OP = 'DELETE' THEN OLD.arrondissement ELSE NEW.arrondissement END;
        v_old text := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.email END;
        v_new text := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.email END;
        v_queued integer;
    BEGIN
        IF v_old IS NOT DISTINCT FROM v_new THEN
            RETURN NULL;
        END IF;
        INSERT INTO department_contact_changes (department, arrondissement, old_email, new_email, actor, note)
        VALUES (v_department, v_arrondissement, v_old, v_new,
                coalesce(nullif(current_setting('chikaya.actor', true), ''), session_user),
                nullif(current_setting('chikaya.note', true), ''));
        IF v_new IS NULL THEN
            RETURN NULL;
        END IF;
        -- The waiting assignments this office now covers, if their complaint is still with the department.
        WITH released AS (
            DELETE FROM department_deliveries_waiting w
            USING complaints c
            WHERE c.id = w.complaint_id AND c.department = w.department
              AND w.department = v_department
              AND (v_arrondissement IS NULL OR w.arrondissement = v_arrondissement)
              AND department_contact_for(w.department, w.arrondissement) IS NOT NULL
            RETURNING w.event_id, w.complaint_id, department_contact_for(w.department, w.arrondissement) AS email
        )
        INSERT INTO notifications (complaint_id, event_id, recipient_kind, recipient, template, language)
        SELECT r.complaint_id, r.event_id, 'department', r.email, 'department_assigned', d.working_language
        FROM released r JOIN departments d ON d.code = v_department
        ON CONFLICT ON CONSTRAINT notifications_once_per_event DO NOTHING;
        GET DIAGNOSTICS v_queued = ROW_COUNT;
        IF v_queued > 0 THEN
            PERFORM pg_notify('chikaya_notifications', '');
        END IF;
        RETURN NULL;
    END $$;

    CREATE TRIGGER department_contacts_changed AFTER INSERT OR UPDATE OR DELETE ON department_contacts
        FOR EACH ROW EXECUTE FUNCTION department_contacts_changed();

    -- When a complaint came to its current department: the latest event that gave it that
    -- department (routing out of 'received', or a reassignment). Deadlines count from there.
    CREATE FUNCTION complaint_assigned_at(p_complaint bigint) RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
        SELECT max(e.at) FROM complaint_events e
        WHERE e.complaint_id = p_complaint AND e.to_department IS NOT NULL
          AND (e.from_status = 'received' OR e.from_department IS DISTINCT FROM e.to_department)
    $$;

    -- Open complaints past a target at time p_at, one row per missed target. Late means strictly
    -- after the due time; days_late counts whole days past it (0 on the first day).
    CREATE FUNCTION late_complaints_at(p_at timestamptz)
    RETURNS TABLE (complaint_id bigint, reference text, department text, arrondissement text, status text,
                   target text, assigned_at timestamptz, due_at timestamptz, days_late integer)
    LANGUAGE sql STABLE AS $$
        WITH open AS (
            SELECT c.id, c.reference, c.department, c.arrondissement, c.status,
                   complaint_assigned_at(c.id) AS assigned_at, d.first_action_days, d.resolution_days
            FROM complaints c JOIN departments d ON d.code = c.department
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

    CREATE VIEW late_complaints AS SELECT * FROM late_complaints_at(now());

    CREATE TABLE digests_sent (
        department text NOT NULL REFERENCES departments (code),
        -- '' is the department's default office; a key column cannot be NULL.
        office text NOT NULL DEFAULT '',
        day date NOT NULL,
        recipient text NOT NULL,
        -- 'sending' is taken before the email goes out, 'sent' after the server accepted it: a
        -- second run the same day finds the row and sends nothing.
        state text NOT NULL DEFAULT 'sending' CONSTRAINT digests_sent_state CHECK (state IN ('sending', 'sent')),
        complaints integer NOT NULL DEFAULT 0,
        message_id text,
        reply text,
        sent_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (department, office, day)
    );
    """
}
