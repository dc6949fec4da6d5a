import Foundation
import Postgres
import Routing

/// A complaint handed to one worker loop by a claim.
public struct ClaimedComplaint: Sendable {
    public let id: Int64
    public let reference: String
    public let body: String
    public let arrondissement: String?
    public let attempts: Int
}

/// The routing outcome of one complaint, ready to be written.
public struct RoutingOutcome: Sendable {
    public let complaintID: Int64
    public let department: String
    public let confidence: Double
    public let runnerUp: String?
    public let matchesJSON: String
    /// The text's `TextSimilarity` keys, kept for later complaints to compare with (nil: none kept).
    public var textKeys: [Int32]?
    /// The earlier open complaint this one probably repeats, and how alike their texts are.
    public var duplicate: DuplicateLink?

    public init(complaintID: Int64, department: String, confidence: Double, runnerUp: String?, matchesJSON: String,
                textKeys: [Int32]? = nil, duplicate: DuplicateLink? = nil) {
        self.complaintID = complaintID
        self.department = department
        self.confidence = confidence
        self.runnerUp = runnerUp
        self.matchesJSON = matchesJSON
        self.textKeys = textKeys
        self.duplicate = duplicate
    }
}

/// What `finish` wrote: complaints newly decided, and queue entries removed.
public struct FinishCounts: Sendable, Equatable {
    public let decided: Int
    public let assigned: Int
    public let removed: Int
}

/// The queue's state for `chikaya queue status`.
public struct QueueStatus: Sendable {
    public let pending: Int
    public let leased: Int
    public let dead: Int
    public let oldestPendingSeconds: Double?
    public let routedLastMinute: Int
}

/// A complaint that exhausted its attempts.
public struct DeadEntry: Sendable {
    public let reference: String
    public let attempts: Int
    public let lastError: String?
    public let enqueuedAt: Date
}

/// All SQL of the routing queue and of the decisions it produces, in one place.
///
/// A claim is committed on its own (attempts + 1, a lease until `available_at`), so an attempt is
/// counted even when the process dies; the decision is written later in a second transaction that
/// also deletes the queue entry. Whatever happens between the two, the unique decision per
/// complaint and the `status = 'received'` guard make a second routing write nothing.
///
/// The claim's commit does not wait for its WAL to reach the disk (`synchronous_commit = off` for
/// that transaction alone): it is visible to every session at once, survives the worker's death,
/// and is on disk within the WAL writer's next round (a few hundred milliseconds at most). Only a
/// crash of the database server itself in that moment can lose it, and a lost claim is a claim
/// never made: the complaint is claimed again, its attempt not counted. Nothing that depends on it
/// can outlive it: the WAL is written in order, so the decision's commit, which does wait for the
/// disk, carries the claim before it. This takes one disk flush (3 ms on the benchmark VM, more
/// when others flush too) off the way of every complaint from submission to decision.
public enum QueueStore {
    public static func claim(on db: PostgresConnection, limit: Int, worker: String,
                             leaseSeconds: Double, maxAttempts: Int) throws(PostgresError) -> [ClaimedComplaint] {
        let result = try claimStatement(on: db, limit: limit, worker: worker, leaseSeconds: leaseSeconds,
                                        maxAttempts: maxAttempts)
        var claimed: [ClaimedComplaint] = []
        claimed.reserveCapacity(result.count)
        let (id, reference, body, arrondissement, attempts) = (try result.position(of: "id"),
            try result.position(of: "reference"), try result.position(of: "body"),
            try result.position(of: "arrondissement"), try result.position(of: "attempts"))
        for row in result.rows {
            claimed.append(ClaimedComplaint(id: try row.decode(id), reference: try row.decode(reference),
                                            body: try row.decode(body), arrondissement: try row.decode(arrondissement),
                                            attempts: try row.decode(attempts)))
        }
        return claimed
    }

    private static func claimStatement(on db: PostgresConnection, limit: Int, worker: String, leaseSeconds: Double,
                                       maxAttempts: Int) throws(PostgresError) -> PostgresResult {
        // Prepared once per session and run with its generic plan: planning it took 0.4 to 0.6 ms
        // a claim for 0.1 to 0.3 ms of work, on the way of every complaint from its submission to
        // its decision. The generic plan is asked for in the claim's own transaction (the same
        // round trip): PostgreSQL's default plans the first five runs with their values and then
        // compares costs, so whether a claim would be planned again, and how, would depend on what
        // the queue held during those five; and for the whole session it would also give generic
        // plans to the batch's unprepared statements, whose arrays' lengths matter. A generic plan knows
        // neither the limit nor the attempts, so the statement leaves it one good way to each
        // table, whatever the statistics (a fresh install never analyzed, a queue analyzed when
        // nearly empty and full since, or the reverse): the exhausted entries are read in the
        // order of `routing_queue_exhausted`; the due ones only through `routing_queue_due`
        // (`attempts + 0` is no condition `routing_queue_exhausted` can serve: with statistics
        // that took the queue for small, that index and a sort of every pending entry won, 16 ms a
        // claim of 500 out of 50,000); the claimed entries and their complaints by id, never by a
        // join the planner may turn into a walk of a whole primary key or into a nested loop that
        // rescans the batch for each row (14 ms for 500). The plan is made again after an ANALYZE
        // of either table. tests: RoutingClaimPlanIntegrationTests.
        let results = try db.pipeline([
            PostgresStatement("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"),
            PostgresStatement(prepared: "routing_claim", """
            WITH exhausted AS (
                UPDATE routing_queue q
                SET state = 'dead',
                    last_error = coalesce(q.last_error || '; ', '') || 'lease expired after attempt ' || q.attempts
                FROM (SELECT complaint_id FROM routing_queue
                      WHERE state = 'pending' AND available_at <= now() AND attempts >= $4
                      ORDER BY attempts, available_at
                      LIMIT 100
                      FOR UPDATE SKIP LOCKED) x
                WHERE q.complaint_id = x.complaint_id
                RETURNING q.complaint_id
            ), due AS (
                SELECT complaint_id FROM routing_queue
                WHERE state = 'pending' AND available_at <= now() AND attempts + 0 < $4
                ORDER BY available_at, complaint_id
                LIMIT $1
                FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE routing_queue q
                SET attempts = q.attempts + 1, leased_by = $2,
                    available_at = now() + make_interval(secs => $3::float8)
                WHERE q.complaint_id = ANY (ARRAY(SELECT complaint_id FROM due))
                RETURNING q.complaint_id, q.attempts
            )
            SELECT c.id, c.reference, c.body, c.arrondissement, claimed.attempts,
                   (SELECT count(*) FROM exhausted) AS exhausted,
                   -- For this statement's own transaction only (see the type's comment); set in
                   -- the statement itself so that a claim stays one round trip to the server.
                   (SELECT set_config('synchronous_commit', 'off', true)) AS commit_mode
            FROM claimed
            -- One lookup by id for each claimed entry (OFFSET 0 keeps the subquery apart, so the
            -- planner cannot make it a join).
            CROSS JOIN LATERAL (SELECT c.id, c.reference, c.body, c.arrondissement FROM complaints c
                                WHERE c.id = claimed.complaint_id OFFSET 0) c
            ORDER BY c.id
            """, [limit, worker, leaseSeconds, maxAttempts]),
        ])
        return results[1]
    }

    /// Writes decisions for a batch in the caller's transaction: decision rows, the complaints'
    /// department and status (the status trigger adds events and notifications), queue entries gone.
    public static func finish(_ outcomes: [RoutingOutcome], rulesVersion: String, worker: String,
                              on db: PostgresConnection) throws(PostgresError) -> FinishCounts {
        // The process's name for the audit: a worker login is recorded as router:<name>
        // (`chikaya_actor()`); the note is cleared so no earlier value of the session leaks in.
        try AuditTrail.describe(note: nil, process: worker, on: db)
        return try finishCounts(db.query(finishStatement(outcomes, rulesVersion: rulesVersion, worker: worker, mayPrepare: false)))
    }

    /// Batches of at most this many complaints are written with statements prepared once per
    /// session (`routing_lock`, `routing_candidates`, `routing_finish`) and run with their generic
    /// plans; larger ones are planned with their values each time.
    ///
    /// Planning those three took about 1 ms a batch (lock 0.22 ms, candidates 0.29, finish 0.44,
    /// `pg_stat_statements` with planning tracked, batches of five at 100 complaints/s), on the way
    /// of every complaint from its submission to its decision and more than their work for a few
    /// complaints. A generic plan cannot know an array's length, and for a large batch a plan
    /// made for a few rows may look the ids up again for each row; a plan made for the values of
    /// a batch of 500 costs under 1 % of its writing. tests: RoutingBatchPlanIntegrationTests.
    static let preparedBatchLimit = 32

    /// `sql` as the statement of a batch of `count` complaints runs it: prepared under `name` for
    /// a small batch (`preparedBatchLimit`), planned with its values otherwise.
    static func batchStatement(_ name: String, count: Int, _ sql: String,
                               _ parameters: [(any PostgresBindable)?]) -> PostgresStatement {
        count <= preparedBatchLimit ? PostgresStatement(prepared: name, sql, parameters) : PostgresStatement(sql, parameters)
    }

    /// The plan mode of a batch's transaction: generic plans for a small batch's prepared
    /// statements (with PostgreSQL's default, the first five runs of each are planned with their
    /// values anyway), the session's default otherwise. Transaction-local: a rollback ends it too.
    static func planMode(count: Int) -> PostgresStatement {
        PostgresStatement(count <= preparedBatchLimit ? "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"
                                                      : "SET LOCAL plan_cache_mode TO DEFAULT")
    }

    /// The statement of `finish` without the audit's settings, which the caller's transaction
    /// must already carry (`AuditTrail.describeStatement`).
    static func finishStatement(_ outcomes: [RoutingOutcome], rulesVersion: String, worker: String,
                                mayPrepare: Bool = true) -> PostgresStatement {
        // Every table is reached through `$1`, the batch's ids (`complaints` once, then by the
        // addresses of its rows): joined with the input's rows alone, the planner walked the whole
        // primary key of `complaints` (twice) whenever it believed the table small, as after a
        // fresh install or a TRUNCATE. Prepared for a small batch only (`preparedBatchLimit`).
        let batch = FinishArrays(outcomes)
        return batchStatement("routing_finish", count: mayPrepare ? outcomes.count : Int.max, """
            WITH input AS (
                -- One typed array per column, not a JSON document: the JSON was lexed three times
                -- (the parameter, json_to_recordset, each match's json) and json_to_recordset
                -- builds a hash table per object; the matches are still checked as json, once.
                SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::text[], $5::json[], $6::text[],
                                     $7::bigint[], $8::float8[])
                    AS x(complaint_id, department, confidence, runner_up, matches, text_keys, duplicate_of,
                         duplicate_similarity)
            ), received AS MATERIALIZED (
                -- The batch's complaints still received, looked up once by their ids. A complaint
                -- another system already assigned by hand gets no router decision that would
                -- contradict it; its queue entry is still finished below. Their row versions stay
                -- where they are until the update below: the batch's transaction holds their
                -- rows (`heldElsewhereStatement`), and a version moved by a concurrent update
                -- is rechecked there, as by the status test alone.
                SELECT c.id, c.ctid AS tid FROM complaints c
                WHERE c.id = ANY ($1::bigint[]) AND c.status = 'received'
            ), decided AS (
                INSERT INTO routing_decisions (complaint_id, department, confidence, runner_up, matches, rules_version, worker_id,
                                               text_keys, duplicate_of, duplicate_similarity)
                SELECT i.complaint_id, i.department, i.confidence, i.runner_up, i.matches, $9, $10,
                       i.text_keys::integer[], i.duplicate_of, i.duplicate_similarity
                FROM input i
                JOIN received r ON r.id = i.complaint_id
                -- No ON CONFLICT: a received complaint has no decision (both are written together,
                -- and no move leads back to received). One that had would fail here by the
                -- primary key and go to the dead letters, where an operator sees it, instead of
                -- staying received with its queue entry gone; and a speculative insertion cost
                -- every decision an extra WAL record.
                ORDER BY i.complaint_id
                RETURNING complaint_id, department
            ), assigned AS (
                -- Each complaint by its row version's address, not by `id = ANY ($1)` again: with
                -- a history the planner took the decisions as one row and probed the primary key
                -- once per decision with the whole array as a key, sorted again at each probe
                -- (auto_explain: 16 of the update's 26 ms a batch of 1000 over 1,000,000 routed
                -- complaints).
                UPDATE complaints c SET department = d.department, status = 'assigned'
                FROM decided d JOIN received r ON r.id = d.complaint_id
                WHERE c.ctid = r.tid AND c.id = d.complaint_id AND c.status = 'received'
                RETURNING c.id
            ), removed AS (
                DELETE FROM routing_queue q
                WHERE q.complaint_id = ANY ($1::bigint[])
                RETURNING q.complaint_id
            )
            SELECT (SELECT count(*) FROM decided) AS decided, (SELECT count(*) FROM assigned) AS assigned,
                   (SELECT count(*) FROM removed) AS removed
            """, [batch.ids, batch.departments, batch.confidences, batch.runnersUp, batch.matches, batch.textKeys,
                  batch.duplicateOf, batch.similarities, rulesVersion, worker])
    }

    static func finishCounts(_ result: PostgresResult) throws(PostgresError) -> FinishCounts {
        let row = try result.single()
        return FinishCounts(decided: try row.decode("decided"), assigned: try row.decode("assigned"),
                            removed: try row.decode("removed"))
    }

    /// Opens the write of a claimed batch in one round trip (`PostgresConnection.pipeline`):
    /// BEGIN, the audit's settings (the process's name; no note), the lock of the batch's
    /// complaints (`heldElsewhereStatement`), and, when `duplicates` is given, the duplicate
    /// candidates (`duplicateCandidatesStatement`). The transaction stays open for
    /// `finishAndCommit`; on a failure the caller rolls it back.
    static func beginBatchWrite(complaintIDs: [Int64], worker: String, duplicates: DuplicateQuery?,
                                knownKeys: (Int64) -> [Int32]? = { _ in nil },
                                on db: PostgresConnection) throws(PostgresError) -> (held: Set<Int64>, candidates: [DuplicateCandidate]) {
        var statements = batchOpening(complaintIDs: complaintIDs, worker: worker)
        let heldAt = statements.count - 1
        var candidatesAt: Int?
        if let duplicates, !duplicates.groups.isEmpty {
            let lookup = duplicateCandidatesStatements(duplicates, batchSize: complaintIDs.count)
            candidatesAt = statements.count + lookup.candidates
            statements += lookup.statements
        }
        let results = try db.pipeline(statements)
        let held = try heldIDs(results[heldAt])
        let candidates = try candidatesAt.map { at throws(PostgresError) in
            try duplicateCandidates(from: results[at], knownKeys: knownKeys)
        } ?? []
        return (held, candidates)
    }

    /// The statements that open a batch's transaction, the lock of its complaints last
    /// (`heldElsewhereStatement`): BEGIN, the audit's settings, the notifier's wake-up left to
    /// the caller, the batch's plan mode.
    private static func batchOpening(complaintIDs: [Int64], worker: String) -> [PostgresStatement] {
        [PostgresStatement("BEGIN"), AuditTrail.describeStatement(note: nil, process: worker),
         // The notifier is woken after the commit (`finishAndCommit`), not by a NOTIFY inside
         // this transaction: see RoutingNotifySchema.
         PostgresStatement("SELECT set_config('chikaya.notify_after_commit', 'on', true)"),
         planMode(count: complaintIDs.count), heldElsewhereStatement(complaintIDs: complaintIDs)]
    }

    /// The statements that write a batch's decisions in the transaction `batchOpening` opened,
    /// sorts and the plan mode as the finish needs them first (`finishStatement` is last).
    private static func batchFinishing(_ outcomes: [RoutingOutcome], rulesVersion: String,
                                       worker: String) -> [PostgresStatement] {
        [sortsAsConfigured, planMode(count: outcomes.count),
         finishStatement(outcomes, rulesVersion: rulesVersion, worker: worker)]
    }

    /// Runs a small batch's statements on an empty batch and rolls back, on a loop's new
    /// connection, so that what a session's first batch does once (prepare the three statements
    /// and make their generic plans, load the catalog entries of the tables the write touches,
    /// compile the PL/pgSQL of the batch trigger and of the audit) is not done while complaints
    /// wait. Writes nothing: the statement trigger runs on no rows.
    static func warmUp(worker: String, on db: PostgresConnection) throws(PostgresError) {
        let nothing = DuplicateQuery(groups: [], windowDays: 1, perGroup: 1)
        let statements = batchOpening(complaintIDs: [], worker: worker)
            + duplicateCandidatesStatements(nothing, batchSize: 0).statements
            + batchFinishing([], rulesVersion: "", worker: worker) + [PostgresStatement("ROLLBACK")]
        do {
            _ = try db.pipeline(statements)
        } catch {
            // A statement failed and the pipeline skipped the rest, the ROLLBACK with them.
            if db.isConnected && db.isInTransaction { try? db.executeScript("ROLLBACK") }
            throw error
        }
    }

    /// What `finishAndCommit` did: complaints decided, and whether the batch queued notifications
    /// (the notifier is then to be woken: `NotifierWakeUp`).
    struct BatchCommit {
        let decided: Int
        let notificationsQueued: Bool
    }

    /// Writes the batch's decisions in the transaction `beginBatchWrite` opened, commits it, and
    /// reads (and clears) the session's mark that the batch queued notifications, all in one
    /// round trip. On a failure before the commit the transaction is left open (aborted) for the
    /// caller to end.
    static func finishAndCommit(_ outcomes: [RoutingOutcome], rulesVersion: String, worker: String,
                                on db: PostgresConnection) throws(PostgresError) -> BatchCommit {
        // Sorts as configured again after the duplicate candidates (`duplicateCandidatesStatements`):
        // the finish and its trigger need theirs.
        var statements: [PostgresStatement] = outcomes.isEmpty ? [sortsAsConfigured]
            : batchFinishing(outcomes, rulesVersion: rulesVersion, worker: worker)
        let finishAt = statements.count - 1
        statements.append(PostgresStatement("COMMIT"))
        let committedAt = statements.count - 1
        // The mark the batch's trigger left (RoutingNotifySchema), read and cleared in a
        // transaction of its own that writes nothing. The NOTIFY itself is not sent from here:
        // it waits on PostgreSQL's NOTIFY lock for as long as an intake's commit holds it across
        // its WAL flush, and this connection's next claim would wait behind it
        // (`NotifierWakeUp`).
        statements.append(PostgresStatement("""
            SELECT coalesce(current_setting('chikaya.notifications_queued', true) = 'on', false) AS queued,
                   set_config('chikaya.notifications_queued', '', false)
            """))
        let results = try db.pipelineOutcomes(statements)
        // The first failure up to the commit is the batch's; what follows the commit is not.
        for result in results[...committedAt] {
            if case .failure(let error) = result { throw error }
        }
        let decided = outcomes.isEmpty ? 0 : try finishCounts(results[finishAt].get()).decided
        // When the mark cannot be read, the notifier is woken all the same (one wake-up too many
        // at worst).
        var queued = true
        if case .success(let result) = results[committedAt + 1], let row = try? result.single(),
           let mark = try? row.decode("queued", as: Bool.self) {
            queued = mark
        }
        return BatchCommit(decided: decided, notificationsQueued: queued)
    }

    /// Wakes the notifier (`NOTIFY chikaya_notifications`), in a transaction of its own that does
    /// not wait for the disk: a wake-up lost in a crash of the server is made up for by the
    /// notifier's poll, and the rows it announces were committed before it was sent.
    static var notifierWakeUpStatement: PostgresStatement {
        PostgresStatement("SELECT pg_notify('chikaya_notifications', ''), set_config('synchronous_commit', 'off', true)")
    }

    /// The duplicate candidates' statement as a batch's transaction runs it, planned without
    /// sorts (`candidates` is its index in `statements`).
    ///
    /// Each group must be read through `open_complaints_by_area`, newest first, stopping after
    /// `perGroup`. When the statistics do not describe the open complaints (taken while every
    /// complaint was still `received`: a fresh install, a bulk load, a restore), the planner
    /// believes there are none and may read them in another order and sort them all (before
    /// migration 21, every complaint the department ever had: 180-300 ms a batch instead of 12 on
    /// 20,000 complaints). Only such a plan needs a sort, so sorts are off for this statement alone.
    /// The setting is the transaction's (`set_config(..., true)`): `finishAndCommit` turns it back
    /// first (a pipeline's large result comes last), and a rollback ends it as well.
    /// A generic plan (a small batch's, `preparedBatchLimit`) is made under the same setting, when
    /// the statement is first run, and kept until the next ANALYZE makes it again.
    static func duplicateCandidatesStatements(_ query: DuplicateQuery,
                                              batchSize: Int = .max) -> (statements: [PostgresStatement], candidates: Int) {
        ([sortsOff, duplicateCandidatesStatement(query, batchSize: batchSize)], 1)
    }

    static var sortsOff: PostgresStatement { PostgresStatement("SELECT set_config('enable_sort', 'off', true)") }
    static var sortsAsConfigured: PostgresStatement { PostgresStatement("SET LOCAL enable_sort TO DEFAULT") }

    /// The newest open complaints (assigned or in progress, submitted within `windowDays`) of each
    /// arrondissement and department of the query's groups, at most `perGroup` each, with the
    /// text keys their decision kept, except for those of `known` (NULL there): one query for a
    /// whole batch, each group read through `open_complaints_by_area` newest first, the keys
    /// from the same rows.
    static func duplicateCandidatesStatement(_ query: DuplicateQuery, batchSize: Int = .max) -> PostgresStatement {
        let json = JSONText.array(query.groups) { group in
            "{\"arrondissement\":\(JSONText.quote(group.arrondissement)),\"department\":\(JSONText.quote(group.department))}"
        }
        return batchStatement("routing_candidates", count: batchSize, """
            SELECT g.arrondissement, g.department, o.complaint_id AS id,
                   -- The keys of a candidate the loop does not hold already (the list hashed once).
                   CASE WHEN o.complaint_id IN (SELECT unnest($4::bigint[])) THEN NULL ELSE o.text_keys::text END AS text_keys
            FROM jsonb_to_recordset($1::jsonb) AS g(arrondissement text, department text)
            CROSS JOIN LATERAL (
                SELECT oc.complaint_id, oc.text_keys FROM open_complaints oc
                WHERE oc.arrondissement = g.arrondissement AND oc.department = g.department
                  AND oc.submitted_at >= now() - $2::float8 * interval '1 day'
                ORDER BY oc.submitted_at DESC, oc.complaint_id DESC
                LIMIT $3
            ) o
            """, [PostgresJSON(json), query.windowDays, query.perGroup, PostgresArray(query.known)])
    }

    /// The candidates of `result`, each with its keys as read, or for an id of the query's
    /// `known` list, as `knownKeys` gives them; a candidate with neither (a complaint whose
    /// decision kept no keys, or none at all) is left out.
    static func duplicateCandidates(from result: PostgresResult,
                                    knownKeys: (Int64) -> [Int32]?) throws(PostgresError) -> [DuplicateCandidate] {
        var candidates: [DuplicateCandidate] = []
        candidates.reserveCapacity(result.count)
        // Columns found once, and the keys read from libpq's bytes: by name and through a String
        // each, a batch's thousand candidates cost the worker more than comparing them.
        let (arrondissement, department, id, keys) = (try result.position(of: "arrondissement"),
            try result.position(of: "department"), try result.position(of: "id"), try result.position(of: "text_keys"))
        for (index, row) in result.rows.enumerated() {
            let complaintID: Int64 = try row.decode(id)
            guard let textKeys = result.withBytes(row: index, column: keys, { $0.map(DuplicateCandidate.parseKeys) })
                    ?? knownKeys(complaintID) else { continue }
            candidates.append(DuplicateCandidate(
                group: DuplicateGroup(arrondissement: try row.decode(arrondissement), department: try row.decode(department)),
                complaintID: complaintID, textKeys: textKeys))
        }
        return candidates
    }

    /// Locks the complaints of a batch that nobody else holds, in the caller's transaction, and
    /// selects the ids of those another session holds (a department's system editing one, a long
    /// transaction): they are left out at once instead of making the whole batch wait on them.
    ///
    /// A complaint no longer `received` (assigned by hand meanwhile) is not the worker's to lock
    /// (row-level security hides it from FOR UPDATE) and is not counted as held: its queue entry
    /// is finished with the batch, without a decision.
    static func heldElsewhereStatement(complaintIDs: [Int64]) -> PostgresStatement {
        batchStatement("routing_lock", count: complaintIDs.count, """
            WITH free AS (
                SELECT id FROM complaints WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE SKIP LOCKED
            )
            SELECT c.id FROM complaints c
            WHERE c.id = ANY($1::bigint[]) AND c.status = 'received' AND NOT EXISTS (SELECT 1 FROM free f WHERE f.id = c.id)
            """, [PostgresArray(complaintIDs)])
    }

    static func heldIDs(_ result: PostgresResult) throws(PostgresError) -> Set<Int64> {
        var ids = Set<Int64>()
        for row in result.rows { ids.insert(try row.decode(0)) }
        return ids
    }

    /// Gives claimed complaints back to the queue after `retryAfter` seconds without counting
    /// the claim as an attempt: they were blocked by someone else's lock, nothing failed.
    public static func release(complaintIDs: [Int64], reason: String, retryAfter: Double, worker: String,
                               on db: PostgresConnection) throws(PostgresError) {
        guard !complaintIDs.isEmpty else { return }
        try db.query("""
            UPDATE routing_queue
            SET attempts = greatest(attempts - 1, 0), last_error = $2,
                available_at = now() + make_interval(secs => $3::float8)
            WHERE complaint_id = ANY($1::bigint[]) AND leased_by = $4 AND state = 'pending'
            """, [PostgresArray(complaintIDs), String(reason.prefix(2_000)), retryAfter, worker])
    }

    /// Records a failed attempt: back to pending after `retryAfter` seconds, or dead once the
    /// attempts are used up. Only the lease holder may do so.
    public static func fail(complaintID: Int64, error: String, retryAfter: Double, maxAttempts: Int,
                            worker: String, on db: PostgresConnection) throws(PostgresError) {
        try db.query("""
            UPDATE routing_queue
            SET last_error = $2,
                available_at = now() + make_interval(secs => $3::float8),
                state = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'pending' END
            WHERE complaint_id = $1 AND leased_by = $5 AND state = 'pending'
            """, [complaintID, String(error.prefix(2_000)), retryAfter, maxAttempts, worker])
    }

    /// Makes a worker session's plans independent of the queue table's statistics.
    ///
    /// The claim must walk the partial index `routing_queue_due` in order and stop at the batch
    /// size. When the statistics do not describe the queue (a fresh install, a TRUNCATE, a bulk
    /// load before autovacuum's next pass) the planner instead reads every pending entry (a
    /// sequential or bitmap scan) and sorts them, on every claim: 33-80 ms a claim with 100,000
    /// waiting against 1.5 ms, and drains fell from about 10,000 to 1,400 complaints/s in
    /// scripts/bench-route. Every statement of a worker session reaches its rows through an
    /// index, so those scans are only allowed as a last resort (a table with no usable index).
    ///
    /// A lock held elsewhere (a migration's DDL, a long transaction of another system on a
    /// complaint) makes a statement fail after `lock_timeout` instead of holding the loop, and so
    /// the shutdown, behind it: the batch is retried like any other failure.
    ///
    /// JIT is off because `enable_seqscan = off` only adds a huge cost to a scan it cannot avoid,
    /// and that cost crosses `jit_above_cost`: such a statement would be compiled anew (about
    /// 200 ms) on every run, for queries whose real work is milliseconds.
    public static func prepareSession(on db: PostgresConnection) throws(PostgresError) {
        try db.executeScript("SET enable_seqscan = off; SET enable_bitmapscan = off; SET jit = off; SET lock_timeout = '10s'")
    }

    /// True while any complaint is still waiting to be routed (dead ones excluded).
    public static func hasPending(on db: PostgresConnection) throws(PostgresError) -> Bool {
        try db.query(prepared: "routing_has_pending", "SELECT EXISTS (SELECT 1 FROM routing_queue WHERE state = 'pending')").single().decode(0)
    }

    public static func status(on db: PostgresConnection) throws(PostgresError) -> QueueStatus {
        let row = try db.query("""
            SELECT count(*) FILTER (WHERE state = 'pending' AND (leased_by IS NULL OR available_at <= now())) AS pending,
                   count(*) FILTER (WHERE state = 'pending' AND leased_by IS NOT NULL AND available_at > now()) AS leased,
                   count(*) FILTER (WHERE state = 'dead') AS dead,
                   extract(epoch FROM now() - min(enqueued_at) FILTER (WHERE state = 'pending'))::float8 AS oldest_pending_seconds,
                   (SELECT count(*) FROM routing_decisions WHERE decided_at > now() - interval '1 minute') AS routed_last_minute
            FROM routing_queue
            """).single()
        return QueueStatus(pending: try row.decode("pending"), leased: try row.decode("leased"),
                           dead: try row.decode("dead"), oldestPendingSeconds: try row.decode("oldest_pending_seconds"),
                           routedLastMinute: try row.decode("routed_last_minute"))
    }

    public static func dead(on db: PostgresConnection, limit: Int) throws(PostgresError) -> [DeadEntry] {
        let result = try db.query("""
            SELECT c.reference, q.attempts, q.last_error, q.enqueued_at
            FROM routing_queue q JOIN complaints c ON c.id = q.complaint_id
            WHERE q.state = 'dead'
            ORDER BY q.enqueued_at, q.complaint_id
            LIMIT $1
            """, [limit])
        return try result.rows.map { row throws(PostgresError) in
            DeadEntry(reference: try row.decode("reference"), attempts: try row.decode("attempts"),
                      lastError: try row.decode("last_error"), enqueuedAt: try row.decode("enqueued_at"))
        }
    }

    /// Puts dead complaints back in the queue with fresh attempts; returns how many.
    public static func retry(reference: String?, on db: PostgresConnection) throws(PostgresError) -> Int {
        try db.execute("""
            UPDATE routing_queue q
            SET state = 'pending', attempts = 0, available_at = now(), leased_by = NULL
            FROM complaints c
            WHERE c.id = q.complaint_id AND q.state = 'dead' AND ($1::text IS NULL OR c.reference = $1)
            """, [reference])
    }
}

/// A batch of outcomes as the column arrays `QueueStore.finish` unnests, element i of each array
/// being outcome i.
struct FinishArrays {
    var ids = PostgresArray()
    var departments = PostgresArray()
    var confidences = PostgresArray()
    var runnersUp = PostgresArray()
    /// Sent in binary: each document as written, none of its quotes escaped.
    var matches = PostgresJSONArray()
    /// Each outcome's keys as an array literal of their own (`{1,2,3}`), cast per row: the
    /// outcomes have different numbers of keys, and PostgreSQL's arrays must be rectangular.
    var textKeys = PostgresArray()
    var duplicateOf = PostgresArray()
    var similarities = PostgresArray()

    init(_ outcomes: [RoutingOutcome]) {
        matches = PostgresJSONArray(capacity: outcomes.reduce(0) { $0 + $1.matchesJSON.utf8.count + 4 })
        for outcome in outcomes {
            ids.append(outcome.complaintID)
            departments.append(outcome.department)
            confidences.append(String(outcome.confidence.isFinite ? outcome.confidence : 0))
            runnersUp.append(outcome.runnerUp)
            matches.append(outcome.matchesJSON)
            if let list = outcome.textKeys {
                textKeys.append(integerList: list)
            } else {
                textKeys.append(nil)
            }
            if let duplicate = outcome.duplicate { duplicateOf.append(duplicate.complaintID) } else { duplicateOf.append(nil) }
            similarities.append(outcome.duplicate.map { String(min(1, max(0, $0.similarity))) })
        }
    }
}
