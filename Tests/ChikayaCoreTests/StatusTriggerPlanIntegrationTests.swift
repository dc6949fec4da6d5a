import Foundation
import Postgres
import Testing
import TestSupport

/// The status trigger's statement keeps the plan of its session's first status change (PL/pgSQL
/// plans it once); read through `auto_explain` (real PostgreSQL, as the cluster's superuser).
@Suite("The status trigger's plan whatever the session's first batch (real PostgreSQL)", .enabled(if: TestDatabase.available))
struct StatusTriggerPlanIntegrationTests {
    /// Every node of an `auto_explain` JSON plan, flattened: its type and how many times it ran.
    func nodes(ofNotice notice: String) throws -> (query: String, nodes: [(type: String, loops: Int)])? {
        guard let start = notice.range(of: "plan:")?.upperBound else { return nil }
        let data = Data(notice[start...].utf8)
        guard let top = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let plan = top["Plan"] as? [String: Any] else { return nil }
        var found: [(type: String, loops: Int)] = []
        func walk(_ node: [String: Any]) {
            found.append((node["Node Type"] as? String ?? "?", node["Actual Loops"] as? Int ?? 0))
            for child in node["Plans"] as? [[String: Any]] ?? [] { walk(child) }
        }
        walk(plan)
        return (top["Query Text"] as? String ?? "", found)
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

        let plans = try notices.compactMap { try nodes(ofNotice: $0) }
        let trigger = plans.filter { $0.query.contains("changed_new") }
        #expect(trigger.count == 1, "\(plans.map(\.query))")
        for plan in trigger {
            // A nested loop over two transition tables (or two CTEs) reads its inner side once per
            // row of its outer side: quadratic in the batch.
            let rescanned = plan.nodes.filter { ($0.type == "Named Tuplestore Scan" || $0.type == "CTE Scan") && $0.loops > 1 }
            #expect(rescanned.isEmpty, "\(plan.nodes)")
            #expect(plan.nodes.contains { $0.type == "Named Tuplestore Scan" })
        }
        // The rows written, one event and one citizen notification per complaint, the events'
        // ids in the complaints' order.
        let events = try owner.query("SELECT complaint_id, id FROM complaint_events ORDER BY id").rows
            .map { try $0.decode("complaint_id", as: Int64.self) }
        #expect(events.count == 300)
        #expect(events == events.sorted())
        #expect(try fixture.count("SELECT count(*) FROM notifications n JOIN complaint_events e ON e.id = n.event_id AND e.complaint_id = n.complaint_id WHERE n.recipient_kind = 'citizen'", on: owner) == 300)
        #expect(try fixture.count("SELECT count(*) FROM department_deliveries_waiting", on: owner) == 300)
    }
}
