import Foundation
import Postgres

/// Which stored complaints a backtest replays.
public enum BacktestScope: Sendable {
    /// Complaints submitted in the last so many seconds.
    case since(seconds: Double)
    /// The most recent N complaints.
    case last(Int)
}

/// One routed complaint as the backtest needs it.
public struct BacktestRow: Sendable {
    public let id: Int64
    public let reference: String
    public let body: String
    public let arrondissement: String?
    /// What the router decided when it was routed.
    public let routedTo: String
    /// Where it is now.
    public let department: String?
    /// True when staff changed its department after routing.
    public let corrected: Bool
}

/// All SQL of `rules backtest`: routed complaints, read page by page (keyset on the id, newest
/// first), so that 100,000 complaints never sit in memory as one result.
public enum BacktestStore {
    /// The fixed lower bound of a `since` scope, taken once so that every page agrees on it.
    public static func cutoff(_ scope: BacktestScope, on db: PostgresConnection) throws(PostgresError) -> String? {
        guard case .since(let seconds) = scope else { return nil }
        return try db.query("SELECT (now() - make_interval(secs => $1::float8))::text", [seconds]).single().decode(0)
    }

    /// How many complaints the scope covers, for the progress line.
    public static func count(_ scope: BacktestScope, cutoff: String?, on db: PostgresConnection) throws(PostgresError) -> Int {
        let total: Int = try db.query("""
            SELECT count(*) FROM complaints c JOIN routing_decisions rd ON rd.complaint_id = c.id
            WHERE ($1::timestamptz IS NULL OR c.submitted_at >= $1::timestamptz)
            """, [cutoff]).single().decode(0)
        if case .last(let n) = scope { return min(n, total) }
        return total
    }

    /// Up to `limit` complaints with an id below `beforeID` (nil: from the newest).
    public static func page(cutoff: String?, beforeID: Int64?, limit: Int,
                            on db: PostgresConnection) throws(PostgresError) -> [BacktestRow] {
        let result = try db.query("""
            SELECT c.id, c.reference, c.body, c.arrondissement, rd.department AS routed_to, c.department,
                   \(AuditTrail.correctedByHand(complaintID: "c.id")) AS corrected
            FROM complaints c JOIN routing_decisions rd ON rd.complaint_id = c.id
            WHERE ($1::bigint IS NULL OR c.id < $1::bigint)
              AND ($2::timestamptz IS NULL OR c.submitted_at >= $2::timestamptz)
            ORDER BY c.id DESC
            LIMIT $3
            """, [beforeID, cutoff, limit])
        var rows: [BacktestRow] = []
        rows.reserveCapacity(result.count)
        for row in result.rows {
            rows.append(BacktestRow(id: try row.decode("id"), reference: try row.decode("reference"),
                                    body: try row.decode("body"), arrondissement: try row.decode("arrondissement"),
                                    routedTo: try row.decode("routed_to"), department: try row.decode("department"),
                                    corrected: try row.decode("corrected")))
        }
        return rows
    }
}
