/// Migration 7: inbound mail (`chikaya mail-in`).
///
/// - notifications may end `bounced` (a mail system returned it: status and diagnostic kept) or
///   `suppressed` (never sent: its address is on the suppression list).
/// - `address_bounces`: every bounce, permanent or not, per address; three transient ones within
///   7 days suppress the address like one permanent bounce.
/// - `suppressed_addresses`: who is never written to again, and why (bounce, transient bounces,
///   unsubscribe, manual). A trigger on `notifications` marks a new row to a suppressed address
///   `suppressed` at once, so neither the notifier nor any other sender needs to remember to look.
/// - `complaint_notes`: what citizens and offices wrote back, on the complaint's history without
///   changing its status. A notification may carry a note instead of a status event.
/// - `inbound_messages`: one row per message `mail-in` handled, whatever it was, for the record.
///
/// Privileges (docs/security.md): `mail-in` runs as a `chikaya_notifier` login. It records
/// bounces, suppressions and inbound messages itself; the two things a notifier may not do, move
/// a complaint and add to its history, go through SECURITY DEFINER functions that check the
/// office (an address of the complaint's department) or the citizen (the complaint's own email)
/// and record that address as the actor. Administrators list and lift suppressions through
/// functions that show citizens' addresses only masked.
enum InboundSchema {
    static let migration = Migration(version: 7, name: "inbound", sql: sql)

    private static let sql = """
    ALTER TABLE notifications DROP CONSTRAINT notifications_status;
    ALTER TABLE notifications ADD CONSTRAINT notifications_status
        CHECK (status IN ('pending', 'sent', 'failed', 'bounced', 'suppressed'));
    ALTER TABLE notifications
        ADD COLUMN bounce_status text,
        ADD COLUMN bounce_diagnostic text,
        ADD COLUMN bounced_at timestamptz;

    CREATE TABLE address_bounces (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        address text NOT NULL CONSTRAINT address_bounces_lower CHECK (address = lower(address)),
        notification_id bigint REFERENCES notifications (id) ON DELETE SET NULL,
        status text NOT NULL,
        permanent boolean NOT NULL,
        diagnostic text,
        at timestamptz NOT NULL DEFAULT now()
    );

    CREATE INDEX address_bounces_address ON address_bounces (address, at);

    CREATE TABLE suppressed_addresses (
        address text PRIMARY KEY CONSTRAINT suppressed_addresses_lower CHECK (address = lower(address)),
        reason text NOT NULL
            CONSTRAINT suppressed_addresses_reason CHECK (reason IN ('bounce', 'transient_bounces', 'unsubscribe', 'manual')),
        status text,
        diagnostic text,
        first_bounce_at timestamptz,
        last_bounce_at timestamptz,
        bounce_count integer NOT NULL DEFAULT 0,
        -- 'citizen' or 'department': which kind of recipient the address was when it was suppressed.
        recipient_kind text,
        -- Set once the triage cell (or the administrator) was told that an office address bounces.
        alerted_at timestamptz,
        suppressed_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE FUNCTION notifications_skip_suppressed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        v_reason text;
    BEGIN
        SELECT reason INTO v_reason FROM suppressed_addresses WHERE address = lower(NEW.recipient);
        IF FOUND THEN
            NEW.status := 'suppressed';
            NEW.last_error := 'address suppressed (' || v_reason || ')';
        END IF;
        RETURN NEW;
    END $$;

    CREATE TRIGGER notifications_skip_suppressed BEFORE INSERT ON notifications
        FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION notifications_skip_suppressed();

    CREATE TABLE complaint_notes (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        complaint_id bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
        author_kind text NOT NULL CONSTRAINT complaint_notes_author_kind CHECK (author_kind IN ('citizen', 'department')),
        author text NOT NULL,
        body text NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
    );

    CREATE INDEX complaint_notes_complaint ON complaint_notes (complaint_id, id);

    ALTER TABLE notifications
        ALTER COLUMN event_id DROP NOT NULL,
        ADD COLUMN note_id bigint REFERENCES complaint_notes (id) ON DELETE CASCADE,
        ADD CONSTRAINT notifications_event_or_note CHECK (event_id IS NOT NULL OR note_id IS NOT NULL);

    CREATE TABLE inbound_messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        received_at timestamptz NOT NULL DEFAULT now(),
        kind text NOT NULL
            CONSTRAINT inbound_messages_kind CHECK (kind IN ('bounce', 'auto_reply', 'department_reply', 'citizen_reply', 'unsubscribe', 'other')),
        token text NOT NULL CONSTRAINT inbound_messages_token CHECK (token IN ('valid', 'invalid', 'none')),
        complaint_id bigint REFERENCES complaints (id) ON DELETE SET NULL,
        notification_id bigint REFERENCES notifications (id) ON DELETE SET NULL,
        message_id text,
        -- What was done: applied, refused with its reason, ignored, recorded.
        outcome text NOT NULL,
        detail text
    );

    CREATE INDEX inbound_messages_received ON inbound_messages (received_at);

    -- An office's command by mail: the sender must be an address of the complaint's department
    -- (an office contact of any arrondissement, or its reply_to). The complaint's triggers do
    -- what they always do; the event then names the office, not the mail-in login.
    CREATE FUNCTION inbound_office_command(p_reference text, p_office text, p_status text, p_department text, p_note text)
    RETURNS TABLE (complaint_id bigint, old_status text, new_status text, old_department text, new_department text,
                   event_id bigint)
    LANGUAGE plpgsql AS $f$
    DECLARE
        v_id bigint;
        v_status text;
        v_department text;
        v_before bigint;
        v_event bigint;
    BEGIN
        SELECT c.id, c.status, c.department INTO v_id, v_status, v_department
        FROM complaints c WHERE c.reference = p_reference FOR UPDATE;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM department_contacts dc WHERE dc.department = v_department AND lower(dc.email) = lower(p_office))
           AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.code = v_department AND lower(d.reply_to) = lower(p_office)) THEN
            RAISE EXCEPTION 'the sender is not an address of the department of complaint %', p_reference
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT max(e.id) INTO v_before FROM complaint_events e WHERE e.complaint_id = v_id;
        PERFORM set_config('chikaya.note', coalesce(p_note, ''), true);
        IF p_department IS NOT NULL THEN
            UPDATE complaints c SET department = p_department WHERE c.id = v_id;
        ELSE
            UPDATE complaints c SET status = p_status WHERE c.id = v_id;
        END IF;
        SELECT max(e.id) INTO v_event FROM complaint_events e WHERE e.complaint_id = v_id;
        IF v_event IS DISTINCT FROM v_before THEN
            UPDATE complaint_events e SET actor = lower(p_office) WHERE e.id = v_event;
        ELSE
            v_event := NULL;
        END IF;
        RETURN QUERY SELECT v_id, v_status, c.status, v_department, c.department, v_event FROM complaints c WHERE c.id = v_id;
    END $f$;

    -- A citizen's reply by mail: a note on the complaint (the sender must be its citizen), and the
    -- note queued for the office that handles it now.
    CREATE FUNCTION inbound_citizen_note(p_reference text, p_citizen text, p_body text)
    RETURNS TABLE (note_id bigint, forwarded boolean)
    LANGUAGE plpgsql AS $f$
    DECLARE
        v_id bigint;
        v_note bigint;
        v_notification bigint;
    BEGIN
        SELECT c.id INTO v_id FROM complaints c
        WHERE c.reference = p_reference AND lower(c.citizen_email) = lower(p_citizen);
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the sender is not the citizen of complaint %', p_reference USING ERRCODE = 'insufficient_privilege';
        END IF;
        INSERT INTO complaint_notes (complaint_id, author_kind, author, body)
        VALUES (v_id, 'citizen', 'citizen', left(p_body, 10000)) RETURNING id INTO v_note;
        INSERT INTO notifications (complaint_id, note_id, recipient_kind, recipient, template, language)
        SELECT c.id, v_note, 'department', department_contact_for(c.department, c.arrondissement),
               'department_citizen_note', d.working_language
        FROM complaints c JOIN departments d ON d.code = c.department
        WHERE c.id = v_id AND department_contact_for(c.department, c.arrondissement) IS NOT NULL
        RETURNING id INTO v_notification;
        IF v_notification IS NOT NULL THEN
            PERFORM pg_notify('chikaya_notifications', '');
        END IF;
        RETURN QUERY SELECT v_note, v_notification IS NOT NULL;
    END $f$;

    -- Office addresses on the suppression list (the city's addresses, not citizens').
    CREATE FUNCTION bounced_offices()
    RETURNS TABLE (department text, arrondissement text, email text, status text, last_bounce_at timestamptz)
    LANGUAGE sql STABLE AS $f$
        SELECT dc.department, dc.arrondissement, dc.email, s.status, s.last_bounce_at
        FROM department_contacts dc JOIN suppressed_addresses s ON s.address = lower(dc.email)
        ORDER BY dc.department, dc.arrondissement NULLS FIRST
    $f$;

    -- For administrators, who may not read citizens' addresses: those are shown masked.
    CREATE FUNCTION suppressions_list(p_limit integer)
    RETURNS TABLE (address text, reason text, status text, bounce_count integer, recipient_kind text,
                   last_bounce_at timestamptz, suppressed_at timestamptz)
    LANGUAGE sql STABLE AS $f$
        SELECT CASE WHEN s.recipient_kind = 'department' OR EXISTS (SELECT 1 FROM department_contacts dc WHERE lower(dc.email) = s.address)
                    THEN s.address
                    ELSE left(s.address, 1) || '***' || substring(s.address FROM position('@' IN s.address)) END,
               s.reason, s.status, s.bounce_count, s.recipient_kind, s.last_bounce_at, s.suppressed_at
        FROM suppressed_addresses s ORDER BY s.suppressed_at DESC, s.address LIMIT p_limit
    $f$;

    CREATE FUNCTION suppression_remove(p_address text) RETURNS boolean LANGUAGE sql AS $f$
        WITH gone AS (DELETE FROM suppressed_addresses WHERE address = lower(p_address) RETURNING 1)
        SELECT EXISTS (SELECT 1 FROM gone)
    $f$;

    DO $$
    DECLARE
        r record;
    BEGIN
        FOR r IN SELECT unnest(ARRAY['notifications_skip_suppressed()', 'inbound_office_command(text,text,text,text,text)',
                                     'inbound_citizen_note(text,text,text)', 'bounced_offices()',
                                     'suppressions_list(integer)', 'suppression_remove(text)']) AS name
        LOOP
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.name, current_schema());
        END LOOP;
    END $$;

    GRANT EXECUTE ON FUNCTION inbound_office_command(text, text, text, text, text), inbound_citizen_note(text, text, text)
        TO chikaya_notifier;
    GRANT EXECUTE ON FUNCTION bounced_offices() TO chikaya_notifier, chikaya_admin, chikaya_readonly;
    GRANT EXECUTE ON FUNCTION suppressions_list(integer), suppression_remove(text) TO chikaya_admin;

    GRANT UPDATE (bounce_status, bounce_diagnostic, bounced_at) ON notifications TO chikaya_notifier;

    ALTER TABLE address_bounces ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_all ON address_bounces TO chikaya_notifier USING (true) WITH CHECK (true);
    GRANT SELECT, INSERT ON address_bounces TO chikaya_notifier;

    ALTER TABLE suppressed_addresses ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_all ON suppressed_addresses TO chikaya_notifier USING (true) WITH CHECK (true);
    CREATE POLICY readonly_read ON suppressed_addresses FOR SELECT TO chikaya_readonly USING (true);
    GRANT SELECT, INSERT, UPDATE ON suppressed_addresses TO chikaya_notifier;
    GRANT SELECT (reason, bounce_count, recipient_kind, suppressed_at) ON suppressed_addresses TO chikaya_readonly;

    ALTER TABLE complaint_notes ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_read ON complaint_notes FOR SELECT TO chikaya_notifier USING (true);
    CREATE POLICY staff_read ON complaint_notes FOR SELECT TO chikaya_staff
        USING (EXISTS (SELECT 1 FROM complaints c WHERE c.id = complaint_id));
    GRANT SELECT ON complaint_notes TO chikaya_notifier, chikaya_staff;

    ALTER TABLE inbound_messages ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_insert ON inbound_messages FOR INSERT TO chikaya_notifier WITH CHECK (true);
    CREATE POLICY services_read ON inbound_messages FOR SELECT TO chikaya_admin, chikaya_readonly USING (true);
    GRANT INSERT (kind, token, complaint_id, notification_id, message_id, outcome, detail) ON inbound_messages TO chikaya_notifier;
    GRANT SELECT ON inbound_messages TO chikaya_admin;
    GRANT SELECT (id, received_at, kind, token, outcome) ON inbound_messages TO chikaya_readonly;
    """
}
