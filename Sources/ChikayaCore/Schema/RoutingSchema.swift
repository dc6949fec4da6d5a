/// Migration 2: the routing queue, decisions, the complaint history, the notification outbox
/// and the published rules.
///
/// Two triggers carry the product's guarantees whoever writes to the database:
/// - a new complaint is queued and the workers are woken in the same transaction;
/// - every status (or department) change of a complaint is checked against the allowed moves,
///   recorded as one event, and gives the citizen exactly one notification row.
/// The actor and note of a change travel as transaction-local settings `chikaya.actor` and
/// `chikaya.note`, so a plain SQL `UPDATE` from another system is recorded too.
enum RoutingSchema {
    static let migration = Migration(version: 2, name: "routing", sql: sql, asOwner: false)

    private static let sql = """
    CREATE TABLE routing_queue (
        complaint_id bigint PRIMARY KEY REFERENCES complaints (id) ON DELETE CASCADE,
        state text NOT NULL DEFAULT 'pending' CONSTRAINT routing_queue_state CHECK (state IN ('pending', 'dead')),
        -- When the entry may next be claimed: now for a new one, the lease's end for a claimed one,
        -- the back-off's end after a failure. A claim that is never finished simply becomes due again.
        available_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        leased_by text,
        last_error text,
        enqueued_at timestamptz NOT NULL DEFAULT now()
    ) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000,
            autovacuum_analyze_scale_factor = 0.02, fillfactor = 80);

    -- Only live entries are in the index; routed complaints leave the table, so the claim's cost
    -- does not grow with history.
    CREATE INDEX routing_queue_due ON routing_queue (available_at, complaint_id) WHERE state = 'pending';

    CREATE FUNCTION complaints_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO routing_queue (complaint_id) VALUES (NEW.id);
        PERFORM pg_notify('chikaya_routing', '');
        RETURN NULL;
    END $$;

    CREATE TRIGGER complaints_enqueue AFTER INSERT ON complaints
        FOR EACH ROW EXECUTE FUNCTION complaints_enqueue();

    CREATE TABLE rules_publications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        version text NOT NULL,
        source text NOT NULL,
        file_name text NOT NULL,
        author text NOT NULL,
        note text,
        published_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE FUNCTION rules_published() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('chikaya_rules', NEW.version);
        RETURN NULL;
    END $$;

    CREATE TRIGGER rules_published AFTER INSERT ON rules_publications
        FOR EACH ROW EXECUTE FUNCTION rules_published();

    CREATE TABLE routing_decisions (
        complaint_id bigint PRIMARY KEY REFERENCES complaints (id) ON DELETE CASCADE,
        department text NOT NULL REFERENCES departments (code),
        confidence double precision NOT NULL,
        runner_up text,
        matches jsonb NOT NULL,
        rules_version text NOT NULL,
        worker_id text NOT NULL,
        decided_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );

    CREATE INDEX routing_decisions_decided_at ON routing_decisions (decided_at);

    CREATE TABLE complaint_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        complaint_id bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
        from_status text NOT NULL,
        to_status text NOT NULL,
        from_department text,
        to_department text,
        actor text NOT NULL,
        note text,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
    );

    CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);
    -- A complaint leaves 'received' once: a second routing can never write a second event.
    CREATE UNIQUE INDEX complaint_events_routed_once ON complaint_events (complaint_id) WHERE from_status = 'received';

    CREATE TABLE notifications (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        complaint_id bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
        event_id bigint NOT NULL REFERENCES complaint_events (id) ON DELETE CASCADE,
        recipient_kind text NOT NULL CONSTRAINT notifications_recipient_kind CHECK (recipient_kind IN ('citizen', 'department')),
        recipient text NOT NULL,
        template text NOT NULL,
        language text,
        status text NOT NULL DEFAULT 'pending' CONSTRAINT notifications_status CHECK (status IN ('pending', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        leased_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        message_id text,
        last_reply text,
        last_error text,
        CONSTRAINT notifications_once_per_event UNIQUE (event_id, recipient_kind, recipient)
    ) WITH (autovacuum_vacuum_scale_factor = 0.02);

    CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE status = 'pending';
    CREATE INDEX notifications_complaint ON notifications (complaint_id);

    -- The allowed moves of a complaint's status; anything else is refused, whoever asks.
    CREATE FUNCTION complaints_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        allowed boolean;
    BEGIN
        IF NEW.status = OLD.status THEN
            IF NEW.department IS DISTINCT FROM OLD.department AND NEW.status IN ('resolved', 'rejected') THEN
                RAISE EXCEPTION 'complaint % is %: reopen it before changing its department', OLD.reference, OLD.status
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END IF;
        allowed := CASE OLD.status
            WHEN 'received' THEN NEW.status = 'assigned'
            WHEN 'assigned' THEN NEW.status IN ('in_progress', 'resolved', 'rejected')
            WHEN 'in_progress' THEN NEW.status IN ('resolved', 'rejected')
            WHEN 'resolved' THEN NEW.status = 'in_progress'
            WHEN 'rejected' THEN NEW.status = 'in_progress'
            ELSE false
        END;
        IF NOT allowed THEN
            RAISE EXCEPTION 'complaint % cannot move from % to %', OLD.reference, OLD.status, NEW.status
                USING ERRCODE = 'check_violation',
                      HINT = 'allowed: received->assigned; assigned->in_progress|resolved|rejected; in_progress->resolved|rejected; resolved|rejected->in_progress';
        END IF;
        IF NEW.status = 'rejected' AND coalesce(btrim(current_setting('chikaya.note', true)), '') = '' THEN
            RAISE EXCEPTION 'complaint % cannot be rejected without a reason', OLD.reference
                USING ERRCODE = 'check_violation', HINT = 'give the reason as the note of the change';
        END IF;
        IF NEW.status <> 'received' AND NEW.department IS NULL THEN
            RAISE EXCEPTION 'complaint % cannot be % without a department', OLD.reference, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$;

    CREATE TRIGGER complaints_check_transition BEFORE UPDATE OF status, department ON complaints
        FOR EACH ROW EXECUTE FUNCTION complaints_check_transition();

    -- One event per change, and for a citizen with an email exactly one notification.
    CREATE FUNCTION complaints_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        event_id bigint;
    BEGIN
        INSERT INTO complaint_events (complaint_id, from_status, to_status, from_department, to_department, actor, note)
        VALUES (NEW.id, OLD.status, NEW.status, OLD.department, NEW.department,
                coalesce(nullif(current_setting('chikaya.actor', true), ''), session_user),
                nullif(current_setting('chikaya.note', true), ''))
        RETURNING id INTO event_id;
        IF NOT NEW.anonymous AND NEW.citizen_email IS NOT NULL AND btrim(NEW.citizen_email) <> '' THEN
            INSERT INTO notifications (complaint_id, event_id, recipient_kind, recipient, template, language)
            VALUES (NEW.id, event_id, 'citizen', NEW.citizen_email,
                    CASE WHEN NEW.status = 'assigned' AND NEW.department = 'triage' THEN 'triage' ELSE NEW.status END,
                    coalesce(NEW.notify_language, NEW.language));
            PERFORM pg_notify('chikaya_notifications', '');
        END IF;
        RETURN NULL;
    END $$;

    CREATE TRIGGER complaints_record_change AFTER UPDATE OF status, department ON complaints
        FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.department IS DISTINCT FROM NEW.department)
        EXECUTE FUNCTION complaints_record_change();
    """
}
