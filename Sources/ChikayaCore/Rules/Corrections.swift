import Foundation
import Postgres
import Routing

/// The labels the city's daily work produces: where staff put the complaints they moved, and
/// where the router put those nobody moved.
public struct CorrectionHistory: Sendable {
    public let examples: [LabelledExample]
    /// Complaints staff moved to another department after routing (hand routings out of triage
    /// included); each is an example labelled with where staff put it.
    public let corrections: Int
    /// Routed complaints nobody moved, taken as right where the router put them.
    public let confirmed: Int
    /// Complaints still in triage that nobody routed: no label, left out.
    public let unlabelled: Int
}

/// Reads the routed complaints of a window as labelled examples for `rules suggest`.
public enum Corrections {
    /// The label of one routed complaint: the department staff moved it to when it was corrected,
    /// else the router's when that was a department; nil for a complaint still waiting in triage.
    public static func example(from row: BacktestRow) -> LabelledExample? {
        let department: String
        if row.corrected, let current = row.department {
            department = current
        } else if row.routedTo != CityDirectory.triageCode {
            department = row.routedTo
        } else {
            return nil
        }
        return LabelledExample(reference: row.reference, text: row.body, arrondissement: row.arrondissement,
                               department: department)
    }

    /// Every routed complaint submitted in the last `seconds`, turned into examples. Read as the
    /// backtest reads: pages of `pageSize` ids from the newest down, each page's join and
    /// corrections through their indexes within its range (a keyset page with a LIMIT made the
    /// planner walk every newer decision, and every event for the corrections, per page).
    public static func history(sinceSeconds seconds: Double, on db: PostgresConnection,
                               pageSize: Int = 5_000) throws(PostgresError) -> CorrectionHistory {
        let cutoff = try BacktestStore.cutoff(.since(seconds: seconds), on: db)
        var examples: [LabelledExample] = []
        var corrections = 0, confirmed = 0, unlabelled = 0
        if let ids = try BacktestStore.idRange(cutoff: cutoff, on: db) {
            let span = Int64(max(1, pageSize))
            var upper = ids.upperBound + 1
            while upper > ids.lowerBound {
                let lower = max(ids.lowerBound, upper - span)
                let page = try BacktestStore.page(ids: lower..<upper, cutoff: cutoff, limit: pageSize, on: db)
                upper = lower
                for k in 0..<page.count {
                    let row = page.row(k)
                    guard let example = example(from: row) else { unlabelled += 1; continue }
                    if row.corrected { corrections += 1 } else { confirmed += 1 }
                    examples.append(example)
                }
            }
        }
        // Oldest first: the order the city saw them in, so that example references read in order.
        examples.reverse()
        return CorrectionHistory(examples: examples, corrections: corrections, confirmed: confirmed, unlabelled: unlabelled)
    }
}
