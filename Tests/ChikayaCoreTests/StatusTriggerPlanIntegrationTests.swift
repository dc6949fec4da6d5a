import Foundation
import Postgres
import Testing
import TestSupport

/// The status trigger's statement keeps the plan of its session's first status change (PL/pgSQL
/// plans it once); read through `auto_explain` (real PostgreSQL, as the cluster's superuser).
@Suite("The status trigger's plan whatever the session's first batch (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct StatusTriggerPlanIntegrationTests {
    /// The plan an `auto_explain` notice carries ("duration: ... plan:" then the JSON), or nil.
    func plan(ofNotice notice: String) throws -> PlanNode? {
        guard let start = notice.range(of: "plan:")?.upperBound else { return nil }
        return try PlanNode(json: String(notice[start...]))
    }

    /// The scans of a transition table or a CTE that ran more than once: a nested loop over two of
    /// them (or a subquery over one per row) reads its inner side once per row of its outer side,
    /// quadratic in the batch.
    func rescans(_ nodes: [PlanNode]) -> [PlanNode] {
        nodes.filter { ($0.type == "Named Tuplestore Scan" || $0.type == "CTE Scan") && ($0.loops ?? 0) > 1 }
    }

    @Test("after an empty first change, a change of 300 complaints reads each transition table and each step once")
    func largeChangeAfterAnEmptyOne() throws {
        let fixture = try RoutingFixture("triggerplan")
        defer { fixture.database.drop() }
        let owner = try fixture.database.connect()
        try owner.executeScript("""
            INSERT INTO complaints (body, arrondissement, citizen_email)
                SELECT 'Nid de poule rue ' || n, 'anfa', 'citizen' || n || '@example.org' FROM generate_series(1, 300) n;
            DELETE FROM routing_queue;
            """)
        var notices: [String] = []
        owner.noticeHandler = { notices.append($0) }
        try owner.executeScript("""
            LOAD 'auto_explain';
            SET auto_explain.log_min_duration = 0;
            SET auto_explain.log_nested_statements = on;
            SET auto_explain.log_analyze = on;
            SET auto_explain.log_timing = off;
            SET auto_explain.log_format = json;
            SET auto_explain.log_level = notice;
            SET client_min_messages = notice;
            """)
        // The session's first status change has no rows, as a worker's warm-up has: the
        // trigger's statement is planned for empty transition tables.
        try owner.query("UPDATE complaints SET status = 'assigned', department = 'voirie' WHERE false")
        notices.removeAll()
        try owner.query("UPDATE complaints SET status = 'assigned', department = 'voirie'")
        owner.noticeHandler = nil

        // The notices of the triggers' statements: the query text in them names their transition
        // tables; the status trigger's one statement reads both versions (the department check
        // of migration 22 reads the new ones only).
        let triggerNotices = notices.filter { $0.contains("changed_new") }
        #expect(triggerNotices.filter { $0.contains("changed_old") }.count == 1, "\(notices.count) notices")
        let trigger = try triggerNotices.compactMap { try plan(ofNotice: $0)?.flattened }
        #expect(trigger.count == 2, "\(notices.count) notices")
        for nodes in trigger {
            #expect(rescans(nodes).isEmpty, "\(nodes)")
            #expect(nodes.contains { $0.type == "Named Tuplestore Scan" })
        }
        // The rows written, one event and one citizen notification per complaint, the events'
        // ids in the complaints' order.
        let events = try owner.query("SELECT complaint_id, id FROM complaint_events ORDER BY id").rows
            .map { try $0.decode("complaint_id", as: Int64.self) }
        #expect(events.count == 300)
        #expect(events == events.sorted())
        #expect(try fixture.count("SELECT count(*) FROM notifications n JOIN complaint_events e ON e.id = n.event_id AND e.complaint_id = n.complaint_id WHERE n.recipient_kind = 'citizen'", on: owner) == 300)
        #expect(try fixture.count("SELECT count(*) FROM department_deliveries_waiting", on: owner) == 300)

        // A reassignment of all of them at once (an administrator's correction) goes through
        // the same plans: the open complaints follow, and no step rescans the changes per row.
        owner.noticeHandler = { notices.append($0) }
        notices.removeAll()
        try owner.query("UPDATE complaints SET department = 'proprete'")
        owner.noticeHandler = nil
        let moves = try notices.filter { $0.contains("changed_old") }.compactMap { try plan(ofNotice: $0)?.flattened }
        #expect(moves.count == 1, "\(notices.count) notices")
        for nodes in moves {
            #expect(rescans(nodes).isEmpty, "\(nodes)")
        }
        #expect(try fixture.count("SELECT count(*) FROM open_complaints WHERE department = 'proprete'", on: owner) == 300)
        #expect(try fixture.count("SELECT count(*) FROM open_complaints", on: owner) == 300)
    }
}
