import Foundation
import Synchronization
import Postgres
import Routing

/// A change of department the draft rules would make: from the stored decision to the draft's.
public struct DepartmentMove: Sendable, Hashable, Comparable {
    public let from: String
    public let to: String

    public static func < (a: DepartmentMove, b: DepartmentMove) -> Bool { (a.from, a.to) < (b.from, b.to) }
}

/// What replaying stored complaints through draft rules found.
public struct BacktestReport: Sendable {
    /// A complaint kept to show a move, with what its explanation needs.
    public struct Example: Sendable {
        public let reference: String
        public let body: String
        public let arrondissement: String?
    }

    public internal(set) var examined = 0
    /// Complaints whose department the draft would change.
    public internal(set) var changed = 0
    public internal(set) var moves: [DepartmentMove: Int] = [:]
    public internal(set) var examples: [DepartmentMove: [Example]] = [:]
    /// Complaints staff reassigned by hand after routing.
    public internal(set) var corrections = 0
    /// Of those, how many the draft now sends where staff put them.
    public internal(set) var correctionsNowRight = 0
    /// Complaints the rules in force got right (never corrected) that the draft would now move.
    public internal(set) var previouslyRightNowMoved = 0

    /// Moves from the most to the least frequent.
    public var rankedMoves: [(move: DepartmentMove, count: Int)] {
        moves.map { ($0.key, $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.move < $1.move }
    }
}

/// Replays complaints through a classifier with the allocation-free `decide` path, one
/// workspace reused for every complaint; only the few examples keep their text.
public struct Backtester {
    public let classifier: Classifier
    public let examplesPerMove: Int
    public private(set) var report = BacktestReport()
    private var workspace = Classifier.Workspace()
    /// Moves between departments of the directory, counted at `from * departments + to` while
    /// pages are replayed (a dictionary keyed by two Strings cost more than classifying), and
    /// the examples kept for each; folded into `report.moves` when the replay ends.
    private var moveCounts = [Int](repeating: 0, count: Backtester.departments * Backtester.departments)
    private var exampleCounts = [Int](repeating: 0, count: Backtester.departments * Backtester.departments)
    private static let departments = CityDirectory.departments.count

    public init(classifier: Classifier, examplesPerMove: Int = 2) {
        self.classifier = classifier
        self.examplesPerMove = examplesPerMove
    }
}

extension Backtester {
    /// Replays one page read in place: each text goes to the classifier as the bytes libpq
    /// holds, and only the complaints kept as examples become Strings.
    public mutating func replay(_ page: BacktestPage) {
        let n = Backtester.departments
        for r in 0..<page.count {
            let bit = page.arrondissementBit(r)
            let classifier = self.classifier
            let draft = page.body(r) { classifier.decide(utf8: $0, arrondissementBit: bit, workspace: &workspace) }
                .departmentIndex
            report.examined += 1
            let corrected = page.isCorrected(r)
            if corrected {
                report.corrections += 1
                if page.department(r) == .known(draft) { report.correctionsNowRight += 1 }
            }
            let routed = page.routedTo(r)
            if routed == .known(draft) { continue }
            report.changed += 1
            if !corrected { report.previouslyRightNowMoved += 1 }
            switch routed {
            case .known(let from):
                let k = from * n + draft
                moveCounts[k] += 1
                if exampleCounts[k] < examplesPerMove {
                    exampleCounts[k] += 1
                    keepExample(page.row(r), move: DepartmentMove(from: CityDirectory.departments[from].code,
                                                                  to: CityDirectory.departments[draft].code))
                }
            case .unknown(let code):
                let move = DepartmentMove(from: code, to: CityDirectory.departments[draft].code)
                report.moves[move, default: 0] += 1
                if report.examples[move, default: []].count < examplesPerMove { keepExample(page.row(r), move: move) }
            }
        }
    }

    private mutating func keepExample(_ row: BacktestRow, move: DepartmentMove) {
        report.examples[move, default: []].append(.init(reference: row.reference, body: row.body,
                                                        arrondissement: row.arrondissement))
    }

    /// Folds the moves counted by index into `report.moves`.
    private mutating func foldMoves() {
        let n = Backtester.departments
        for k in moveCounts.indices where moveCounts[k] > 0 {
            let move = DepartmentMove(from: CityDirectory.departments[k / n].code, to: CityDirectory.departments[k % n].code)
            report.moves[move, default: 0] += moveCounts[k]
            moveCounts[k] = 0
        }
    }

    /// Ids per page (so at most as many complaints per round trip): large enough that latency
    /// does not matter, small enough to keep memory flat whatever the number of complaints.
    public static let pageSize = 5_000

    /// Replays every routed complaint of `scope` through the draft, newest first, page by page
    /// (`BacktestStore`, ranges of ids), so 100,000 complaints never sit in memory at once.
    /// `progress` hears (replayed, total) after each page.
    ///
    /// The pages are read on a thread of their own while the previous page is classified, at
    /// most `BacktestPages.ahead` pages ahead, so that reading the history and classifying it
    /// overlap instead of taking turns. `db` is used by that thread alone until it has ended.
    public mutating func replay(_ scope: BacktestScope, on db: PostgresConnection, pageSize: Int = Backtester.pageSize,
                                progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(PostgresError) {
        let cutoff = try BacktestStore.cutoff(scope, on: db)
        let total = try BacktestStore.count(scope, cutoff: cutoff, on: db)
        guard total > 0 else { return }
        let pages = BacktestPages()
        let connection = BacktestPages.Lent(db)
        let reader = JoinableThread(name: "backtest-reader") {
            var remaining = total
            do throws(PostgresError) {
                // From the newest id down, `pageSize` ids a page, until the scope is read.
                if let ids = try BacktestStore.idRange(cutoff: cutoff, on: connection.db) {
                    var upper = ids.upperBound + 1
                    let span = Int64(max(1, pageSize))
                    while remaining > 0 && upper > ids.lowerBound {
                        let lower = max(ids.lowerBound, upper - span)
                        let page = try BacktestStore.page(ids: lower..<upper, cutoff: cutoff,
                                                          limit: min(pageSize, remaining), on: connection.db)
                        upper = lower
                        guard page.count > 0 else { continue }
                        remaining -= page.count
                        pages.put(.page(page))
                    }
                }
                pages.put(.end)
            } catch {
                pages.put(.failed(error))
            }
        }
        pages.consumerStarted()
        var failure: PostgresError?
        reading: while true {
            switch pages.take() {
            case .page(let page):
                replay(page)
                progress(report.examined, total)
            case .end:
                break reading
            case .failed(let error):
                failure = error
                break reading
            }
        }
        reader.join()
        foldMoves()
        if let failure { throw failure }
    }
}

/// The pages of a backtest handed from the reading thread to the classifying one.
final class BacktestPages: Sendable {
    enum Item: Sendable {
        case page(BacktestPage)
        case end
        case failed(PostgresError)
    }

    /// Pages read ahead of the classification at most: enough to keep both busy, few enough
    /// that memory stays flat (a page of 5,000 complaints is a few megabytes).
    static let ahead = 2

    /// The connection, lent to the reading thread, which alone uses it until it is joined.
    final class Lent: @unchecked Sendable {
        let db: PostgresConnection
        init(_ db: PostgresConnection) { self.db = db }
    }

    /// The pages waiting, and how many of them were put without taking room (see `put`).
    private let queue = Mutex<(items: [Item], unbounded: Int, consuming: Bool)>(([], 0, false))
    private let available = DispatchSemaphore(value: 0)
    private let free = DispatchSemaphore(value: ahead)

    /// Until the classifying side takes pages, a reader must not wait for room (a thread that
    /// could not be started runs its body at once, before anyone takes); such a page gives no
    /// room back when it is taken, so the bound holds again afterwards.
    func put(_ item: Item) {
        let waits = queue.withLock { state in
            if !state.consuming { state.unbounded += 1 }
            return state.consuming
        }
        if waits { free.wait() }
        queue.withLock { $0.items.append(item) }
        available.signal()
    }

    func consumerStarted() {
        queue.withLock { $0.consuming = true }
    }

    func take() -> Item {
        available.wait()
        let (item, tookRoom) = queue.withLock { state in
            let item = state.items.removeFirst()
            guard state.unbounded == 0 else {
                state.unbounded -= 1
                return (item, false)
            }
            return (item, true)
        }
        if tookRoom { free.signal() }
        return item
    }
}
