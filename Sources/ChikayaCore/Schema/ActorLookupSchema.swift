/// Migration 17: the audit's role checks keep their plans for the session.
///
/// `chikaya_actor()` asks `chikaya_session_in` up to four times which service role the session
/// plays. Written in SQL (and not inlinable: it has a `SET search_path`), each call was planned
/// again: 0.16 ms of planning for 0.01 ms of work, so 1.3 ms in every statement that writes an
/// event, among them every routing batch's trigger (`pg_stat_statements` with planning tracked,
/// batches of five at 100 complaints/s: the batch's finish took 3.0 ms, 1.8 ms after this). In
/// PL/pgSQL the same queries are planned once per session. The answers are unchanged.
enum ActorLookupSchema {
    static let migration = Migration(version: 17, name: "actor_lookup_cached_plans", sql: sql)

    private static let sql = """
    CREATE OR REPLACE FUNCTION chikaya_session_in(p_role text) RETURNS boolean LANGUAGE plpgsql STABLE AS $f$
    BEGIN
        RETURN NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = session_user), false)
           AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role)
           AND pg_has_role(session_user, p_role, 'MEMBER');
    END $f$;

    -- CREATE OR REPLACE resets the function's settings; the owner and the grants are kept.
    DO $$
    BEGIN
        EXECUTE format('ALTER FUNCTION chikaya_session_in(text) SET search_path = %I, pg_temp', current_schema());
    END $$;
    """
}
