@testable import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// A small batch is written with the session's prepared lock, candidates and finish, run with
/// their generic plans; a large one is planned with its values (real PostgreSQL, through a worker
/// login, so row-level security is in the plans as in service).
@Suite("A small batch's prepared statements (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct RoutingBatchPlanIntegrationTests {
    /// The tables each scan of a plan reads, and through which index (`PlanNode.scans`).
    func scans(_ explain: String, on db: PostgresConnection) throws -> [PlanNode] {
        try db.query("SELECT set_config('plan_cache_mode', 'force_generic_plan', false)")
        defer { _ = try? db.query("SELECT set_config('plan_cache_mode', 'auto', false)") }
        let text: String = try db.query("EXPLAIN (FORMAT JSON) " + explain).single().decode(0)
        return try PlanNode(json: text)?.scans ?? []
    }

    func submit(_ count: Int, on db: PostgresConnection) throws {
        try db.query("""
            INSERT INTO complaints (body, arrondissement, citizen_email)
            SELECT 'nid de poule rue ' || g, 'anfa', 'citizen' || g || '@example.org' FROM generate_series(1, $1::int) g
            """, [count])
    }

    /// A city in service: 20,000 complaints in the arrondissements in turn, each routed to one
    /// of the departments with a decision (text keys included), none left in the queue.
    func routeCity(on db: PostgresConnection) throws {
        try db.executeScript("""
            INSERT INTO complaints (body, arrondissement)
                SELECT 'Nid de poule rue ' || n, (SELECT code FROM arrondissements ORDER BY code OFFSET n % 16 LIMIT 1)
                FROM generate_series(1, 20000) n;
            DELETE FROM routing_queue;
            INSERT INTO routing_decisions (complaint_id, department, confidence, matches, rules_version, worker_id, text_keys)
                SELECT id, (SELECT code FROM departments ORDER BY code OFFSET id % 12 LIMIT 1), 1, '[]', 'v', 'w', '{1,2,3}'
                FROM complaints;
            UPDATE complaints c SET status = 'assigned', department = rd.department
                FROM routing_decisions rd WHERE rd.complaint_id = c.id;
            """)
    }

    /// Claims `count` complaints and writes them as the worker's loop does; what was decided.
    func route(_ count: Int, on worker: PostgresConnection, owner: PostgresConnection) throws -> (decided: Int, candidates: Int) {
        try submit(count, on: owner)
        let claimed = try QueueStore.claim(on: worker, limit: count, worker: "plan-test:0", leaseSeconds: 60, maxAttempts: 5)
        #expect(claimed.count == count)
        let query = DuplicateQuery(groups: [DuplicateGroup(arrondissement: "anfa", department: "voirie")], windowDays: 7, perGroup: 10)
        let (held, candidates) = try QueueStore.beginBatchWrite(complaintIDs: claimed.map(\.id), worker: "plan-test:0",
                                                                duplicates: query, on: worker)
        #expect(held.isEmpty)
        let outcomes = claimed.map {
            RoutingOutcome(complaintID: $0.id, department: "voirie", confidence: 0.9, runnerUp: nil, matchesJSON: "[]")
        }
        let commit = try QueueStore.finishAndCommit(outcomes, rulesVersion: "test", worker: "plan-test:0", on: worker)
        return (commit.decided, candidates.count)
    }

    @Test("generic plans for small batches, by the primary key and the open complaints' index; large batches planned with their values")
    func smallBatchesRunPreparedStatements() throws {
        let fixture = try RoutingFixture("batchplan")
        let login = try TestLogin("batchplan", in: ["chikaya_worker"])
        defer {
            fixture.database.drop()
            login.drop()
        }
        let owner = try fixture.database.connect()
        // A city in service: 20,000 complaints routed to the departments, analyzed.
        try routeCity(on: owner)
        try owner.executeScript("VACUUM ANALYZE")
        let worker = try login.connect(fixture.database)
        try QueueStore.prepareSession(on: worker)

        let limit = QueueStore.preparedBatchLimit
        var routedSoFar = 0
        for size in [3, 1, limit] {
            let routed = try route(size, on: worker, owner: owner)
            #expect(routed.decided == size)
            // The ten newest open complaints of the group, less those this test routed (newer,
            // and decided without text keys, so no candidates).
            #expect(routed.candidates == max(0, 10 - routedSoFar))
            routedSoFar += size
        }
        let prepared = try worker.query("""
            SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
            WHERE name IN ('routing_lock', 'routing_candidates', 'routing_finish') ORDER BY name
            """).rows.map { (try $0.decode("name", as: String.self), try $0.decode("generic_plans", as: Int.self),
                             try $0.decode("custom_plans", as: Int.self)) }
        #expect(prepared.map(\.0) == ["routing_candidates", "routing_finish", "routing_lock"])
        #expect(prepared.allSatisfy { $0.1 == 3 && $0.2 == 0 }, "\(prepared)")

        // A batch over the limit runs no prepared statement, and is written all the same.
        let large = try route(limit + 1, on: worker, owner: owner)
        #expect(large.decided == limit + 1)
        #expect(try worker.query("SELECT sum(generic_plans + custom_plans)::int FROM pg_prepared_statements WHERE name IN ('routing_lock', 'routing_candidates', 'routing_finish')")
            .single().decode(0, as: Int.self) == 9)
        // Each decision wrote its status, its event and its citizen's notification.
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions WHERE worker_id = 'plan-test:0'", on: owner) == 2 * limit + 5)
        #expect(try fixture.count("SELECT count(*) FROM complaints WHERE citizen_email IS NOT NULL AND status = 'assigned'", on: owner) == 2 * limit + 5)
        #expect(try fixture.count("SELECT count(*) FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id WHERE c.citizen_email IS NOT NULL", on: owner) == 2 * limit + 5)
        #expect(try fixture.count("SELECT count(*) FROM notifications WHERE recipient_kind = 'citizen'", on: owner) == 2 * limit + 5)

        // The generic plans the next small batch runs: complaints by their primary key (and the
        // finish's update by the addresses of the rows found by it), the candidates through the
        // open complaints' index, and no table read other than by an index or an address.
        let lock = try scans("EXECUTE routing_lock('{1,2,3}')", on: worker)
        let finish = try scans("""
            EXECUTE routing_finish('{1}', '{voirie}', '{0.9}', '{NULL}', ARRAY['[]']::json[], '{NULL}', '{NULL}', '{NULL}', 'v', 'w')
            """, on: worker)
        let candidates = try scans("""
            EXECUTE routing_candidates('[{"arrondissement": "anfa", "department": "voirie"}]', 7, 10, '{}')
            """, on: worker)
        for (name, plan) in [("lock", lock), ("finish", finish), ("candidates", candidates)] {
            #expect(!plan.isEmpty, "no plan for the \(name)")
            #expect(plan.allSatisfy { $0.type == "Index Scan" || $0.type == "Index Only Scan" || $0.type == "Tid Scan" },
                    "\(name): \(plan)")
        }
        #expect(lock.filter { $0.relation == "complaints" }.allSatisfy { $0.index == "complaints_pkey" }, "\(lock)")
        #expect(finish.filter { $0.relation == "complaints" }.allSatisfy { $0.index == "complaints_pkey" || $0.type == "Tid Scan" },
                "\(finish)")
        #expect(finish.filter { $0.type == "Tid Scan" }.map(\.relation) == ["complaints"], "\(finish)")
        #expect(finish.contains { $0.relation == "routing_queue" && $0.index == "routing_queue_pkey" }, "\(finish)")
        #expect(candidates.map(\.relation) == ["open_complaints"] && candidates.map(\.index) == ["open_complaints_by_area"],
                "\(candidates)")
    }

    @Test("a large batch over a routed history updates its complaints by address, never a probe per complaint with the whole batch as key")
    func largeBatchOverHistoryHasNoProbePerComplaint() throws {
        let fixture = try RoutingFixture("batchhistory")
        let login = try TestLogin("batchhistory", in: ["chikaya_worker"])
        defer {
            fixture.database.drop()
            login.drop()
        }
        let owner = try fixture.database.connect()
        // 20,000 routed complaints, then 300 waiting, analyzed: the received ones are rare, so
        // the planner expects the batch's decisions to be a row or two.
        try routeCity(on: owner)
        try submit(300, on: owner)
        try owner.executeScript("VACUUM ANALYZE")
        let waiting = try owner.query("SELECT id FROM complaints WHERE status = 'received' ORDER BY id").rows
            .map { try $0.decode("id", as: Int64.self) }
        #expect(waiting.count == 300)
        let outcomes = waiting.map {
            RoutingOutcome(complaintID: $0, department: "voirie", confidence: 0.9, runnerUp: nil, matchesJSON: "[]")
        }
        let finish = QueueStore.finishStatement(outcomes, rulesVersion: "v", worker: "plan-test:0", mayPrepare: false)
        let worker = try login.connect(fixture.database)
        try worker.executeScript("BEGIN")
        defer { try? worker.executeScript("ROLLBACK") }
        try AuditTrail.describe(note: nil, process: "plan-test:0", on: worker)
        let text: String = try worker.query("EXPLAIN (ANALYZE, FORMAT JSON) " + finish.sql, finish.parameters).single().decode(0)
        let scans = try PlanNode(json: text)?.scans ?? []
        // Every complaint written, and no scan of complaints run once per complaint with the
        // batch's array in its key (each such probe prepares the whole array again).
        let rescans = scans.filter { $0.relation == "complaints" && ($0.loops ?? 0) > 1 && ($0.indexCondition ?? "").contains("ANY") }
        #expect(rescans.isEmpty, "\(scans)")
        #expect(scans.contains { $0.relation == "complaints" && $0.type == "Tid Scan" }, "\(scans)")
        #expect(try fixture.count("SELECT count(*) FROM complaints WHERE status = 'assigned'", on: worker) == 20_300)
    }

    @Test("a loop's new connection is warmed up: the small batch's statements prepared and planned, nothing written")
    func warmUpPreparesAndWritesNothing() throws {
        let fixture = try RoutingFixture("warmup")
        let login = try TestLogin("warmup", in: ["chikaya_worker"])
        defer {
            fixture.database.drop()
            login.drop()
        }
        let owner = try fixture.database.connect()
        try submit(2, on: owner)
        let worker = try login.connect(fixture.database)
        try QueueStore.prepareSession(on: worker)
        try QueueStore.warmUp(worker: "warm-test:0", on: worker)
        #expect(!worker.isInTransaction)
        func plans() throws -> [String: Int] {
            var plans: [String: Int] = [:]
            for row in try worker.query("""
                SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
                WHERE name IN ('routing_lock', 'routing_candidates', 'routing_finish')
                """).rows {
                #expect(try row.decode("custom_plans", as: Int.self) == 0)
                plans[try row.decode("name", as: String.self)] = try row.decode("generic_plans", as: Int.self)
            }
            return plans
        }
        #expect(try plans() == ["routing_lock": 1, "routing_candidates": 1, "routing_finish": 1])
        // Nothing written: the waiting complaints still wait, no decision, no event, no mark.
        #expect(try fixture.count("SELECT count(*) FROM routing_queue", on: owner) == 2)
        #expect(try fixture.count("SELECT count(*) FROM complaints WHERE status = 'received'", on: owner) == 2)
        #expect(try fixture.count("SELECT count(*) FROM routing_decisions", on: owner) == 0)
        #expect(try fixture.count("SELECT count(*) FROM complaint_events", on: owner) == 0)
        #expect((try worker.query("SELECT current_setting('chikaya.notifications_queued', true)").single()
            .decode(0, as: String?.self) ?? "") == "")
        // The first batch then runs on those plans.
        #expect(try route(1, on: worker, owner: owner).decided == 1)
        #expect(try plans() == ["routing_lock": 2, "routing_candidates": 2, "routing_finish": 2])
    }
}
