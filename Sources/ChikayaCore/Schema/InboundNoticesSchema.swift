/// What `mail-in` writes back, always to the city and never to a citizen or a stranger:
///
/// - an office's answer: the command it sent by mail was applied (and what it did) or refused
///   (and why), in the office's working language;
/// - the alert that an office address bounces: its complaints reach nobody, so the triage cell
///   (or the administrator's address) is told, once per suppression, not once per bounce.
///
/// Both go through the outbox like every other email: a row of `inbound_notices` says what to
/// tell, a notification (`notice_id`) carries it to the notifier. `mail-in` runs as a notifier
/// login, which may not insert notifications: two SECURITY DEFINER functions do, after checking
/// that the address is the city's (an address of the complaint's department, the triage cell or
/// the configured administrator). A loop guard caps the answers to one office about one complaint
/// (an auto-responder without RFC 3834 headers must not keep a conversation going).
enum InboundNoticesSchema {
    static let migration = Migration(version: 11, name: "inbound_notices", sql: sql)

    private static let sql = """
    CREATE TABLE inbound_notices (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind text NOT NULL
            CONSTRAINT inbound_notices_kind CHECK (kind IN ('command_accepted', 'command_refused', 'office_bounced')),
        complaint_id bigint NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
        -- The office concerned (lower case) and its department.
        office text NOT NULL CONSTRAINT inbound_notices_office_lower CHECK (office = lower(office)),
        department text,
        -- Answers: the command as `mail-in --explain` names it (resolved, reassign:voirie, none...),
        -- the refusal's code (no_command, reason_missing, department_missing, unknown_department,
        -- not_allowed, already_there) or, accepted, unchanged; and the detail ("assigned->resolved",
        -- a department code). Alerts: the bounce's status and diagnostic.
        command text,
        reason text,
        detail text,
        -- The Message-ID the answer threads under (the office's own message).
        in_reply_to text,
        at timestamptz NOT NULL DEFAULT now()
    );

    CREATE INDEX inbound_notices_complaint ON inbound_notices (complaint_id, at);

    ALTER TABLE notifications
        ADD COLUMN notice_id bigint REFERENCES inbound_notices (id) ON DELETE CASCADE,
        DROP CONSTRAINT notifications_event_or_note,
        ADD CONSTRAINT notifications_source CHECK (event_id IS NOT NULL OR note_id IS NOT NULL OR notice_id IS NOT NULL);

    -- The answer to an office's command. The office must be an address of the complaint's
    -- department, or of the department it had before that office moved it; at most 5 answers an
    -- hour go to one office about one complaint. Returns the notification, or NULL when none was
    -- queued (loop guard).
    CREATE FUNCTION inbound_office_answer(p_reference text, p_office text, p_accepted boolean, p_command text,
                                          p_reason text, p_detail text, p_in_reply_to text)
    RETURNS bigint LANGUAGE plpgsql AS $f$
    DECLARE
        v_id bigint;
        v_department text;
        v_office text := lower(btrim(p_office));
        v_own text;
        v_language text;
        v_notice bigint;
        v_notification bigint;
    BEGIN
        SELECT c.id, c.department INTO v_id, v_department FROM complaints c WHERE c.reference = p_reference;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        SELECT d.code INTO v_own FROM departments d
        WHERE d.code IN (SELECT v_department
                         UNION SELECT e.from_department FROM complaint_events e
                               WHERE e.complaint_id = v_id AND e.actor = v_office)
          AND (EXISTS (SELECT 1 FROM department_contacts dc WHERE dc.department = d.code AND lower(dc.email) = v_office)
               OR lower(d.reply_to) = v_office)
        ORDER BY d.code = v_department DESC LIMIT 1;
        IF v_own IS NULL THEN
            RAISE EXCEPTION 'the address is not an office of the department of complaint %', p_reference
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (SELECT count(*) FROM inbound_notices i
            WHERE i.complaint_id = v_id AND i.office = v_office AND i.kind <> 'office_bounced'
              AND i.at > now() - interval '1 hour') >= 5 THEN
            RETURN NULL;
        END IF;
        SELECT d.working_language INTO v_language FROM departments d WHERE d.code = v_own;
        INSERT INTO inbound_notices (kind, complaint_id, office, department, command, reason, detail, in_reply_to)
        VALUES (CASE WHEN p_accepted THEN 'command_accepted' ELSE 'command_refused' END, v_id, v_office, v_own,
                p_command, p_reason, left(p_detail, 500), left(p_in_reply_to, 500))
        RETURNING id INTO v_notice;
        INSERT INTO notifications (complaint_id, notice_id, recipient_kind, recipient, template, language)
        VALUES (v_id, v_notice, 'department', v_office, 'department_command_answer', v_language)
        RETURNING id INTO v_notification;
        PERFORM pg_notify('chikaya_notifications', '');
        RETURN v_notification;
    END $f$;

    -- The alert that an office address bounces, to the triage cell's default office (or, when it
    -- has none, is suppressed itself or is the address that bounces, to p_admin). Once per
    -- suppression: `suppressed_addresses.alerted_at` is set in the same transaction. Returns the
    -- notification, or NULL (already told, not an office address, or nobody to tell).
    CREATE FUNCTION office_bounce_alert(p_address text, p_notification bigint, p_admin text)
    RETURNS bigint LANGUAGE plpgsql AS $f$
    DECLARE
        v_address text := lower(btrim(p_address));
        v_complaint bigint;
        v_department text;
        v_status text;
        v_diagnostic text;
        v_to text;
        v_language text;
        v_notice bigint;
        v_notification bigint;
    BEGIN
        SELECT dc.department INTO v_department FROM department_contacts dc
        WHERE lower(dc.email) = v_address ORDER BY dc.arrondissement NULLS FIRST LIMIT 1;
        IF v_department IS NULL THEN
            SELECT d.code INTO v_department FROM departments d WHERE lower(d.reply_to) = v_address ORDER BY d.code LIMIT 1;
        END IF;
        SELECT n.complaint_id INTO v_complaint FROM notifications n
        WHERE n.id = p_notification AND lower(n.recipient) = v_address AND n.recipient_kind = 'department';
        IF v_department IS NULL OR v_complaint IS NULL THEN
            RETURN NULL;
        END IF;
        v_to := lower(department_contact_for('triage', NULL));
        IF v_to IS NULL OR v_to = v_address OR EXISTS (SELECT 1 FROM suppressed_addresses s WHERE s.address = v_to) THEN
            v_to := nullif(lower(btrim(p_admin)), '');
        END IF;
        IF v_to IS NULL OR v_to = v_address THEN
            RETURN NULL;
        END IF;
        UPDATE suppressed_addresses s SET alerted_at = now()
        WHERE s.address = v_address AND s.alerted_at IS NULL
        RETURNING s.status, s.diagnostic INTO v_status, v_diagnostic;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
        SELECT coalesce((SELECT d.working_language FROM departments d WHERE d.code = 'triage'), 'fr') INTO v_language;
        INSERT INTO inbound_notices (kind, complaint_id, office, department, reason, detail)
        VALUES ('office_bounced', v_complaint, v_address, v_department, v_status, left(v_diagnostic, 500))
        RETURNING id INTO v_notice;
        INSERT INTO notifications (complaint_id, notice_id, recipient_kind, recipient, template, language)
        VALUES (v_complaint, v_notice, 'department', v_to, 'office_bounced', v_language)
        RETURNING id INTO v_notification;
        PERFORM pg_notify('chikaya_notifications', '');
        RETURN v_notification;
    END $f$;

    DO $$
    DECLARE
        r record;
    BEGIN
        FOR r IN SELECT unnest(ARRAY['inbound_office_answer(text,text,boolean,text,text,text,text)',
                                     'office_bounce_alert(text,bigint,text)']) AS name
        LOOP
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %I, pg_temp', r.name, current_schema());
        END LOOP;
    END $$;

    GRANT EXECUTE ON FUNCTION inbound_office_answer(text, text, boolean, text, text, text, text),
        office_bounce_alert(text, bigint, text) TO chikaya_notifier;

    ALTER TABLE inbound_notices ENABLE ROW LEVEL SECURITY;
    CREATE POLICY services_read ON inbound_notices FOR SELECT TO chikaya_notifier, chikaya_admin USING (true);
    GRANT SELECT ON inbound_notices TO chikaya_notifier, chikaya_admin;
    GRANT SELECT (notice_id) ON notifications TO chikaya_admin, chikaya_readonly;
    """
}
