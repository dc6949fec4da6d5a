/// Migration 6: least privilege. One NOLOGIN group role per job, the schema owned by
/// `chikaya_owner`, grants for exactly what each job does, row-level security for department
/// staff, and an audit actor the database computes from the login.
///
/// - Roles are cluster-wide while a database is not: each is created only when missing, and a
///   concurrent migration of another database (the tests migrate one database per test in
///   parallel) that creates it first is not an error.
/// - Every table, view and function of the schema moves to `chikaya_owner`; PUBLIC loses
///   EXECUTE on functions, now and for those `chikaya_owner` creates later, so a new function is
///   private until its migration grants it (docs/security.md, SchemaPrivilegeIntegrationTests).
/// - The triggers that write where their caller may not (queue, events, outbox, contact audit)
///   run as `chikaya_owner` (SECURITY DEFINER) with a pinned search_path.
/// - `chikaya_actor()` decides who acted: the login (`session_user`) for people; `router:` or
///   `notifier:` plus the process's name (`chikaya.process`) for a login of those services. A
///   BEFORE INSERT trigger on every audit table writes it over whatever the statement said, so
///   the `chikaya.actor` setting of earlier versions no longer counts.
/// - Staff see and act on the complaints of the departments (and arrondissements) that
///   `staff_assignments` gives their login; moving a complaint out of their reach goes through
///   `complaint_reassign`, which checks the same assignment (a plain UPDATE could not: the row
///   must stay visible to the one who updates it).
/// - The intake reads back only what its own transaction inserted: its complaints carry the
///   transaction's `now()` as `submitted_at`, a column it cannot write.
enum SecuritySchema {
    static let migration = Migration(version: 6, name: "least_privilege", sql: sql, asOwner: false)

    /// The group roles, in the order docs/security.md lists them.
    static let roles = ["chikaya_owner", "chikaya_intake", "chikaya_worker", "chikaya_notifier",
                        "chikaya_staff", "chikaya_admin", "chikaya_readonly"]

    private static let sql = """
    DO $$
    DECLARE
        r text;
    BEGIN
        FOREACH r IN ARRAY ARRAY['chikaya_owner', 'chikaya_intake', 'chikaya_worker', 'chikaya_notifier',
                                 'chikaya_staff', 'chikaya_admin', 'chikaya_readonly'] LOOP
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
                BEGIN
                    EXECUTE format('CREATE ROLE %I NOLOGIN', r);
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL; -- another database's migration created it a moment ago
                END;
            END IF;
            -- A group role someone made a login of would let that login in with the group's rights.
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r AND rolcanlogin) THEN
                EXECUTE format('ALTER ROLE %I NOLOGIN', r);
            END IF;
        END LOOP;
    END $$;

    -- The schema: only the owner creates in it; each role may look things up in it.
    DO $$
    BEGIN
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', current_schema());
        EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO chikaya_owner', current_schema());
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO chikaya_intake, chikaya_worker, chikaya_notifier, '
                       'chikaya_staff, chikaya_admin, chikaya_readonly', current_schema());
    END $$;

    -- Who acted, computed from the session, never from what the client says. A superuser counts
    -- as a person: it can rewrite any table anyway, and its login is the honest record.
    CREATE FUNCTION chikaya_session_in(p_role text) RETURNS boolean LANGUAGE sql STABLE AS $f$
        SELECT NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
           AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role)
           AND pg_has_role(session_user, p_role, 'MEMBER')
    $f$;

    CREATE FUNCTION chikaya_actor() RETURNS text LANGUAGE plpgsql STABLE AS $f$
    DECLARE
        v_process text := left(nullif(btrim(current_setting('chikaya.process', true)), ''), 200);
    BEGIN
        -- People first: a login that is also in a service role is still recorded as itself.
        IF chikaya_session_in('chikaya_staff') OR chikaya_session_in('chikaya_admin') THEN
            RETURN session_user;
        ELSIF chikaya_session_in('chikaya_worker') THEN
            RETURN 'router:' || coalesce(v_process, session_user);
        ELSIF chikaya_session_in('chikaya_notifier') THEN
            RETURN 'notifier:' || coalesce(v_process, session_user);
        END IF;
        RETURN session_user;
    END $f$;

    -- BEFORE INSERT on an audit table; TG_ARGV[0] names its actor column.
    CREATE FUNCTION chikaya_stamp_actor() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], chikaya_actor()));
        RETURN NEW;
    END $f$;

    CREATE TRIGGER complaint_events_actor BEFORE INSERT ON complaint_events
        FOR EACH ROW EXECUTE FUNCTION chikaya_stamp_actor('actor');
    CREATE TRIGGER department_contact_changes_actor BEFORE INSERT ON department_contact_changes
        FOR EACH ROW EXECUTE FUNCTION chikaya_stamp_actor('actor');
    CREATE TRIGGER rules_publications_author BEFORE INSERT ON rules_publications
        FOR EACH ROW EXECUTE FUNCTION chikaya_stamp_actor('author');

    -- Which staff login handles which complaints: a department, or one arrondissement of it.
    CREATE TABLE staff_assignments (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        login text NOT NULL
            CONSTRAINT staff_assignments_login CHECK (login <> '' AND length(login) <= 63 AND login !~ '[[:cntrl:]]'),
        department text NOT NULL REFERENCES departments (code),
        -- NULL: every arrondissement of the department.
        arrondissement text REFERENCES arrondissements (code),
        assigned_by text NOT NULL,
        assigned_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT staff_assignments_scope UNIQUE NULLS NOT DISTINCT (login, department, arrondissement)
    );

    CREATE TABLE staff_assignment_changes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        login text NOT NULL,
        department text NOT NULL,
        arrondissement text,
        change text NOT NULL CONSTRAINT staff_assignment_changes_change CHECK (change IN ('added', 'removed')),
        actor text NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
    );

    CREATE TRIGGER staff_assignments_by BEFORE INSERT ON staff_assignments
        FOR EACH ROW EXECUTE FUNCTION chikaya_stamp_actor('assigned_by');
    CREATE TRIGGER staff_assignment_changes_actor BEFORE INSERT ON staff_assignment_changes
        FOR EACH ROW EXECUTE FUNCTION chikaya_stamp_actor('actor');

    CREATE FUNCTION staff_assignments_changed() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO staff_assignment_changes (login, department, arrondissement, change, actor)
            VALUES (NEW.login, NEW.department, NEW.arrondissement, 'added', '');
        ELSE
            INSERT INTO staff_assignment_changes (login, department, arrondissement, change, actor)
            VALUES (OLD.login, OLD.department, OLD.arrondissement, 'removed', '');
        END IF;
        RETURN NULL;
    END $f$;

    CREATE TRIGGER staff_assignments_changed AFTER INSERT OR DELETE ON staff_assignments
        FOR EACH ROW EXECUTE FUNCTION staff_assignments_changed();

    -- True when the session may see and act on a complaint of this department and arrondissement:
    -- a staff login assigned to it; the owner and superusers (migrations, maintenance) always.
    CREATE FUNCTION chikaya_staff_may_handle(p_department text, p_arrondissement text) RETURNS boolean
    LANGUAGE sql STABLE AS $f$
        SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
            OR pg_has_role(session_user, 'chikaya_owner', 'MEMBER')
            OR EXISTS (SELECT 1 FROM staff_assignments s
                       WHERE s.login = session_user AND s.department = p_department
                         AND (s.arrondissement IS NULL OR s.arrondissement = p_arrondissement))
    $f$;

    -- Gives a complaint the caller handles to another department, keeping its status. No row
    -- when no complaint has the reference or the caller does not handle it (the two look alike,
    -- so a login learns nothing about complaints it may not see). Returns the event the change
    -- wrote, its actor and the citizen notifications it queued: afterwards the caller may no
    -- longer see the complaint, nor so its history.
    CREATE FUNCTION complaint_reassign(p_reference text, p_department text)
    RETURNS TABLE (complaint_id bigint, old_status text, new_status text, old_department text, new_department text,
                   event_id bigint, actor text, citizen_notifications bigint)
    LANGUAGE plpgsql AS $f$
    DECLARE
        v_id bigint;
        v_status text;
        v_department text;
        v_arrondissement text;
    BEGIN
        SELECT c.id, c.status, c.department, c.arrondissement INTO v_id, v_status, v_department, v_arrondissement
        FROM complaints c WHERE c.reference = p_reference FOR UPDATE;
        IF NOT FOUND OR NOT chikaya_staff_may_handle(v_department, v_arrondissement) THEN
            RETURN;
        END IF;
        UPDATE complaints c SET department = p_department WHERE c.id = v_id;
        RETURN QUERY
            SELECT v_id, v_status, c.status, v_department, c.department, e.id, e.actor,
                   (SELECT count(*) FROM notifications n WHERE n.event_id = e.id AND n.recipient_kind = 'citizen')
            FROM complaints c
            LEFT JOIN LATERAL (SELECT ev.id, ev.actor FROM complaint_events ev WHERE ev.complaint_id = c.id
                               AND c.department IS DISTINCT FROM v_department
                               ORDER BY ev.id DESC LIMIT 1) e ON true
            WHERE c.id = v_id;
    END $f$;

    -- Everything of the schema belongs to chikaya_owner (tables take their identity sequences along).
    DO $$
    DECLARE
        r record;
    BEGIN
        FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
                 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                   AND d.deptype = 'e')
        LOOP
            EXECUTE format('ALTER %s %s OWNER TO chikaya_owner',
                           CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                          WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.name);
        END LOOP;
        FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
                 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'S'
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                   AND d.deptype IN ('a', 'i', 'e'))
        LOOP
            EXECUTE format('ALTER SEQUENCE %s OWNER TO chikaya_owner', r.name);
        END LOOP;
        FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
                 WHERE p.pronamespace = current_schema()::regnamespace AND p.prokind IN ('f', 'p')
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                   AND d.deptype = 'e')
        LOOP
            EXECUTE format('ALTER ROUTINE %s OWNER TO chikaya_owner', r.name);
            EXECUTE format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', r.name);
        END LOOP;
        -- The functions that write where their caller may not run as their owner, with a search
        -- path nobody else can add to.
        FOR r IN SELECT unnest(ARRAY['complaints_enqueue()', 'complaints_record_change()',
                                     'complaints_to_department()', 'department_contacts_changed()',
                                     'staff_assignments_changed()', 'chikaya_stamp_actor()',
                                     'complaint_reassign(text,text)']) AS name
        LOOP
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.name, current_schema());
        END LOOP;
        FOR r IN SELECT unnest(ARRAY['chikaya_session_in(text)', 'chikaya_actor()',
                                     'chikaya_staff_may_handle(text,text)']) AS name
        LOOP
            EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', r.name, current_schema());
        END LOOP;
    END $$;

    ALTER DEFAULT PRIVILEGES FOR ROLE chikaya_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
    ALTER VIEW late_complaints SET (security_invoker = true);

    -- Row-level security: staff see their own complaints and what hangs off them; the services
    -- that need every row say so with a policy of their own.
    ALTER TABLE complaints ENABLE ROW LEVEL SECURITY;
    CREATE POLICY intake_insert ON complaints FOR INSERT TO chikaya_intake
        WITH CHECK (status = 'received' AND department IS NULL);
    CREATE POLICY intake_read_back ON complaints FOR SELECT TO chikaya_intake
        USING (submitted_at = now());
    CREATE POLICY services_read ON complaints FOR SELECT
        TO chikaya_worker, chikaya_notifier, chikaya_admin, chikaya_readonly USING (true);
    CREATE POLICY worker_route ON complaints FOR UPDATE TO chikaya_worker
        USING (status = 'received') WITH CHECK (status = 'assigned' AND department IS NOT NULL);
    CREATE POLICY staff_read ON complaints FOR SELECT TO chikaya_staff
        USING (chikaya_staff_may_handle(department, arrondissement));
    CREATE POLICY staff_update ON complaints FOR UPDATE TO chikaya_staff
        USING (chikaya_staff_may_handle(department, arrondissement))
        WITH CHECK (chikaya_staff_may_handle(department, arrondissement));

    ALTER TABLE attachments ENABLE ROW LEVEL SECURITY;
    CREATE POLICY intake_attach ON attachments FOR INSERT TO chikaya_intake
        WITH CHECK (EXISTS (SELECT 1 FROM complaints c WHERE c.id = complaint_id));
    CREATE POLICY intake_read_back ON attachments FOR SELECT TO chikaya_intake
        USING (EXISTS (SELECT 1 FROM complaints c WHERE c.id = complaint_id));
    CREATE POLICY services_read ON attachments FOR SELECT TO chikaya_notifier USING (true);
    CREATE POLICY staff_read ON attachments FOR SELECT TO chikaya_staff
        USING (EXISTS (SELECT 1 FROM complaints c WHERE c.id = complaint_id));

    ALTER TABLE routing_decisions ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_all ON routing_decisions
        TO chikaya_worker, chikaya_notifier, chikaya_admin, chikaya_readonly USING (true) WITH CHECK (true);
    CREATE POLICY staff_read ON routing_decisions FOR SELECT TO chikaya_staff
        USING (EXISTS (SELECT 1 FROM complaints c WHERE c.id = complaint_id));

    ALTER TABLE complaint_events ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_read ON complaint_events FOR SELECT
        TO chikaya_notifier, chikaya_admin, chikaya_readonly USING (true);
    CREATE POLICY staff_read ON complaint_events FOR SELECT TO chikaya_staff
        USING (EXISTS (SELECT 1 FROM complaints c WHERE c.id = complaint_id));

    ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_all ON notifications
        TO chikaya_notifier, chikaya_admin, chikaya_readonly USING (true) WITH CHECK (true);
    CREATE POLICY staff_read ON notifications FOR SELECT TO chikaya_staff
        USING (EXISTS (SELECT 1 FROM complaints c WHERE c.id = complaint_id));

    ALTER TABLE staff_assignments ENABLE ROW LEVEL SECURITY;
    CREATE POLICY admin_all ON staff_assignments TO chikaya_admin USING (true) WITH CHECK (true);
    CREATE POLICY staff_own ON staff_assignments FOR SELECT TO chikaya_staff USING (login = session_user);

    -- Grants: what each job does, column by column where a table holds personal data.
    GRANT SELECT ON departments, arrondissements
        TO chikaya_intake, chikaya_worker, chikaya_notifier, chikaya_staff, chikaya_admin, chikaya_readonly;
    GRANT UPDATE (working_language, reply_to, first_action_days, resolution_days) ON departments TO chikaya_admin;

    GRANT INSERT (body, language, arrondissement, anonymous, citizen_name, citizen_email, citizen_phone, notify_language)
        ON complaints TO chikaya_intake;
    GRANT SELECT (id, reference) ON complaints TO chikaya_intake;
    GRANT SELECT (id, reference, submitted_at, body, language, arrondissement, status, department)
        ON complaints TO chikaya_worker;
    GRANT UPDATE (status, department) ON complaints TO chikaya_worker, chikaya_staff;
    GRANT SELECT ON complaints TO chikaya_notifier, chikaya_staff;
    GRANT SELECT (id, reference, submitted_at, body, language, arrondissement, anonymous, status, department)
        ON complaints TO chikaya_admin;
    GRANT SELECT (id, reference, submitted_at, language, arrondissement, anonymous, status, department)
        ON complaints TO chikaya_readonly;

    GRANT INSERT (complaint_id, file_name, content_type, byte_size, storage_key) ON attachments TO chikaya_intake;
    GRANT SELECT (id, complaint_id) ON attachments TO chikaya_intake;
    GRANT SELECT ON attachments TO chikaya_notifier, chikaya_staff;

    GRANT SELECT, UPDATE, DELETE ON routing_queue TO chikaya_worker;
    GRANT SELECT, UPDATE ON routing_queue TO chikaya_admin;
    GRANT SELECT (complaint_id, state, available_at, attempts, leased_by, enqueued_at) ON routing_queue TO chikaya_readonly;

    GRANT SELECT ON rules_publications TO chikaya_worker, chikaya_staff, chikaya_admin, chikaya_readonly;
    GRANT INSERT (version, source, file_name, note) ON rules_publications TO chikaya_admin;

    GRANT SELECT ON routing_decisions TO chikaya_worker, chikaya_notifier, chikaya_staff, chikaya_admin;
    GRANT INSERT (complaint_id, department, confidence, runner_up, matches, rules_version, worker_id)
        ON routing_decisions TO chikaya_worker;
    GRANT SELECT (complaint_id, department, confidence, runner_up, rules_version, decided_at)
        ON routing_decisions TO chikaya_readonly;

    GRANT SELECT ON complaint_events TO chikaya_notifier, chikaya_staff, chikaya_admin;
    GRANT SELECT (id, complaint_id, from_status, to_status, from_department, to_department, at)
        ON complaint_events TO chikaya_readonly;

    GRANT SELECT ON notifications TO chikaya_notifier, chikaya_staff;
    GRANT UPDATE (status, attempts, next_attempt_at, leased_by, sent_at, message_id, last_reply, last_error)
        ON notifications TO chikaya_notifier;
    GRANT SELECT (id, complaint_id, event_id, recipient_kind, template, language, status, attempts, next_attempt_at,
                  leased_by, created_at, sent_at, message_id, last_reply, last_error)
        ON notifications TO chikaya_admin;
    GRANT SELECT (id, complaint_id, event_id, recipient_kind, template, language, status, attempts, next_attempt_at,
                  created_at, sent_at)
        ON notifications TO chikaya_readonly;

    GRANT SELECT, INSERT, UPDATE, DELETE ON department_contacts TO chikaya_admin;
    -- Office addresses are the city's, not citizens': dashboards and `chikaya health` check them.
    GRANT SELECT ON department_contacts TO chikaya_notifier, chikaya_readonly;
    GRANT SELECT ON department_contact_changes TO chikaya_admin;
    GRANT SELECT ON department_deliveries_waiting TO chikaya_admin, chikaya_readonly;

    GRANT SELECT, INSERT, UPDATE, DELETE ON digests_sent TO chikaya_notifier;
    GRANT SELECT ON digests_sent TO chikaya_admin;
    GRANT SELECT (department, office, day, state, complaints, sent_at) ON digests_sent TO chikaya_readonly;

    GRANT SELECT ON late_complaints TO chikaya_notifier, chikaya_staff, chikaya_admin, chikaya_readonly;

    GRANT SELECT, INSERT, DELETE ON staff_assignments TO chikaya_admin;
    GRANT SELECT ON staff_assignments TO chikaya_staff;
    GRANT SELECT ON staff_assignment_changes TO chikaya_admin;

    GRANT SELECT ON schema_migrations TO chikaya_admin, chikaya_readonly;

    GRANT EXECUTE ON FUNCTION late_complaints_at(timestamptz), complaint_assigned_at(bigint)
        TO chikaya_notifier, chikaya_staff, chikaya_admin, chikaya_readonly;
    GRANT EXECUTE ON FUNCTION department_contact_for(text, text) TO chikaya_notifier, chikaya_admin;
    GRANT EXECUTE ON FUNCTION department_office_for(text, text) TO chikaya_notifier;
    GRANT EXECUTE ON FUNCTION chikaya_staff_may_handle(text, text), complaint_reassign(text, text) TO chikaya_staff;
    """
}
