import Foundation

/// One node of a PostgreSQL plan in JSON (`EXPLAIN (FORMAT JSON)`, or `auto_explain` with
/// `log_format = json`), with the nodes under it: what the plan tests read.
public struct PlanNode: CustomStringConvertible {
    public let type: String
    /// The table a node reads or writes (a `ModifyTable` names its table too).
    public let relation: String?
    public let index: String?
    public let indexCondition: String?
    public let hasJoinFilter: Bool
    /// A CTE's or subplan's name, as `CTE exhausted`.
    public let subplanName: String?
    /// How many times the node ran (plans with ANALYZE only).
    public let loops: Int?
    public let children: [PlanNode]

    init(_ node: [String: Any]) {
        type = node["Node Type"] as? String ?? ""
        relation = node["Relation Name"] as? String
        index = node["Index Name"] as? String
        indexCondition = node["Index Cond"] as? String
        hasJoinFilter = node["Join Filter"] != nil
        subplanName = node["Subplan Name"] as? String
        loops = node["Actual Loops"] as? Int
        children = (node["Plans"] as? [[String: Any]] ?? []).map(PlanNode.init)
    }

    /// The top node of `json`: EXPLAIN's one-element array of `{"Plan": ...}`, or auto_explain's
    /// `{"Query Text": ..., "Plan": ...}`; nil when it holds no plan.
    public init?(json: String) throws {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let top = (object as? [[String: Any]])?.first ?? object as? [String: Any]
        guard let plan = top?["Plan"] as? [String: Any] else { return nil }
        self.init(plan)
    }

    /// This node and every node under it, depth first.
    public var flattened: [PlanNode] { [self] + children.flatMap(\.flattened) }

    /// The reads of tables in this node and under it (the `ModifyTable` nodes left out).
    public var scans: [PlanNode] { flattened.filter { $0.relation != nil && $0.type != "ModifyTable" } }

    /// The first node here or under it whose subplan name is `name`.
    public func subplan(named name: String) -> PlanNode? {
        subplanName == name ? self : children.lazy.compactMap { $0.subplan(named: name) }.first
    }

    public var description: String {
        [type, relation, index.map { "using \($0)" }, loops.map { "loops=\($0)" }].compactMap { $0 }.joined(separator: " ")
    }
}
