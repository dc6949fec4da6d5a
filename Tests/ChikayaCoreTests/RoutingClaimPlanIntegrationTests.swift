@testable import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// The claim is prepared once per worker session and runs with its generic plan, which must read
/// the queue and the complaints through their indexes whatever the statistics say (real
/// PostgreSQL, through a worker login, so row-level security is in the plan as in service).
@Suite("The prepared claim's generic plan (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct RoutingClaimPlanIntegrationTests {
    /// The claim's generic plan on `db`, as the next claim would run it.
    func claimPlan(on db: PostgresConnection) throws -> PlanNode? {
        // A literal per parameter (EXPLAIN EXECUTE takes no bound ones); constants of the test.
        try db.query("SELECT set_config('plan_cache_mode', 'force_generic_plan', false)")
        defer { _ = try? db.query("SELECT set_config('plan_cache_mode', 'auto', false)") }
        let text: String = try db.query("EXPLAIN (FORMAT JSON) EXECUTE routing_claim(500, 'plan-test', 60, 5)").single().decode(0)
        return try PlanNode(json: text)
    }

    /// What every plan of the claim must be, whatever the statistics.
    func expectGoodPlan(_ plan: PlanNode?, _ situation: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(plan != nil, "no plan (\(situation))", sourceLocation: sourceLocation)
        let nodes = plan?.flattened ?? []
        // The tables' reads (the UPDATEs' ModifyTable nodes name their table too).
        let scans = plan?.scans ?? []
        #expect(scans.allSatisfy { $0.type == "Index Scan" || $0.type == "Index Only Scan" },
                "a table read other than by an index (\(situation)): \(scans.map { "\($0.type) \($0.relation ?? "")" })",
                sourceLocation: sourceLocation)
        let queueIndexes = Set(scans.filter { $0.relation == "routing_queue" }.compactMap(\.index))
        #expect(queueIndexes.isSuperset(of: ["routing_queue_due", "routing_queue_exhausted", "routing_queue_pkey"]),
                "queue read through \(queueIndexes.sorted()) (\(situation))", sourceLocation: sourceLocation)
        // The due entries in the order of routing_queue_due, never sorted after another index;
        // one sort only: the result's, by complaint id.
        #expect(nodes.filter { $0.type == "Sort" }.count == 1, "sorts in the plan (\(situation))", sourceLocation: sourceLocation)
        // Complaints looked up by id, one claimed entry at a time; no join that rescans the batch
        // or walks a primary key.
        let complaints = scans.filter { $0.relation == "complaints" }
        #expect(complaints.count == 1 && complaints[0].index == "complaints_pkey"
                    && (complaints[0].indexCondition ?? "").contains("claimed.complaint_id"),
                "complaints read as \(complaints.map { "\($0.index ?? "") \($0.indexCondition ?? "")" }) (\(situation))",
                sourceLocation: sourceLocation)
        #expect(!nodes.contains { $0.type == "Merge Join" || $0.hasJoinFilter },
                "a merge join or a join filter (\(situation)): \(nodes.map(\.type))", sourceLocation: sourceLocation)
    }

    func submit(_ count: Int, on db: PostgresConnection) throws {
        try db.query("""
            INSERT INTO complaints (body, arrondissement, citizen_email)
            SELECT 'nid de poule rue ' || g, 'anfa', 'citizen' || g || '@example.org' FROM generate_series(1, $1::int) g
            """, [count])
    }

    func claim(_ limit: Int, on db: PostgresConnection) throws -> [ClaimedComplaint] {
        try QueueStore.claim(on: db, limit: limit, worker: "plan-test:0", leaseSeconds: 60, maxAttempts: 5)
    }

    @Test("planned once per session, by its indexes on a fresh install, after ANALYZE, and with statistics of a nearly empty queue")
    func claimKeepsItsIndexesWhateverTheStatistics() throws {
        let fixture = try RoutingFixture("claimplan")
        let login = try TestLogin("claimplan", in: ["chikaya_worker"])
        defer {
            fixture.database.drop()
            login.drop()
        }
        let owner = try fixture.database.connect()
        let worker = try login.connect(fixture.database)
        try QueueStore.prepareSession(on: worker)

        // A fresh install: the tables were never analyzed, the queue is empty.
        #expect(try claim(500, on: worker).isEmpty)
        expectGoodPlan(try claimPlan(on: worker), "fresh install, empty queue")

        // Still never analyzed, with more waiting than a claim takes: the oldest first, by id.
        try submit(700, on: owner)
        expectGoodPlan(try claimPlan(on: worker), "never analyzed, 700 waiting")
        let first = try claim(500, on: worker)
        #expect(first.count == 500)
        #expect(first.map(\.id) == first.map(\.id).sorted())
        #expect(first.allSatisfy { $0.attempts == 1 })

        // Analyzed with 200 waiting (the plan is made again), then a burst.
        try owner.executeScript("ANALYZE routing_queue, complaints")
        expectGoodPlan(try claimPlan(on: worker), "analyzed with 200 waiting")
        #expect(try claim(190, on: worker).count == 190)
        try owner.executeScript("ANALYZE routing_queue, complaints")
        try submit(1_000, on: owner)
        expectGoodPlan(try claimPlan(on: worker), "analyzed with 10 waiting, then 1,000 more")
        let burst = try claim(500, on: worker)
        #expect(burst.count == 500)
        #expect(Set(burst.map(\.id)).isDisjoint(with: first.map(\.id)))

        // Entries whose lease ran out after their last attempt go to the dead letters, not to a claim.
        try owner.query("UPDATE routing_queue SET attempts = 5, available_at = now() WHERE complaint_id = ANY($1::bigint[])",
                        [PostgresArray(burst.prefix(3).map(\.id))])
        try owner.executeScript("ANALYZE routing_queue")
        expectGoodPlan(try claimPlan(on: worker), "analyzed with exhausted entries")
        let rest = try claim(1_000, on: worker)
        #expect(rest.count == 510)
        #expect(try fixture.count("SELECT count(*) FROM routing_queue WHERE state = 'dead'", on: owner) == 3)

        // Every claim of the session ran the one prepared statement with its generic plan.
        let held = try worker.query("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'routing_claim'").single()
        #expect(try held.decode("custom_plans", as: Int.self) == 0)
        #expect(try held.decode("generic_plans", as: Int.self) >= 5)
    }
}
