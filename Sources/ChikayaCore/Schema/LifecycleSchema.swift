/// Migration 3: closes two gaps the routing migration's transition check left open.
///
/// `complaints_check_transition` (migration 2) let a department change through unchecked whenever
/// the status stayed the same, so a plain SQL `UPDATE` could:
/// - set a department on a complaint still `received`: its event (`received` → `received`) then
///   takes the one "left received" slot of `complaint_events_routed_once`, and the router's own
///   event later fails forever, dead-lettering the complaint;
/// - clear the department of an assigned complaint (`department = NULL`), leaving it nowhere.
/// The function is replaced (same trigger, same name) with both refused; everything else it
/// enforces is unchanged. The timestamp index serves `chikaya stats` over the events.
enum LifecycleSchema {
    static let migration = Migration(version: 3, name: "lifecycle", sql: sql, asOwner: false)

    private static let sql = """
    CREATE OR REPLACE FUNCTION complaints_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        allowed boolean;
    BEGIN
        IF NEW.status = OLD.status THEN
            IF NEW.department IS NOT DISTINCT FROM OLD.department THEN
                RETURN NEW;
            END IF;
            IF NEW.status IN ('resolved', 'rejected') THEN
                RAISE EXCEPTION 'complaint % is %: reopen it before changing its department', OLD.reference, OLD.status
                    USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.status = 'received' THEN
                RAISE EXCEPTION 'complaint % is not routed yet: its department can change once the router has assigned it', OLD.reference
                    USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.department IS NULL THEN
                RAISE EXCEPTION 'complaint % is %: its department cannot be removed', OLD.reference, OLD.status
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

    CREATE INDEX complaint_events_at ON complaint_events (at);
    """
}
