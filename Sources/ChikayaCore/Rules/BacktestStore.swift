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

/// All SQL of `rules backtest` and `rules suggest`: routed complaints, read page by page (ranges
/// of ids, newest first), so that 100,000 complaints never sit in memory as one result.
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

    /// The lowest and highest id of the complaints the scope's cutoff keeps, nil when none.
    public static func idRange(cutoff: String?, on db: PostgresConnection) throws(PostgresError) -> ClosedRange<Int64>? {
        let row = try db.query("""
            SELECT min(c.id) AS low, max(c.id) AS high FROM complaints c
            WHERE ($1::timestamptz IS NULL OR c.submitted_at >= $1::timestamptz)
            """, [cutoff]).single()
        guard let low: Int64 = try row.decode("low"), let high: Int64 = try row.decode("high") else { return nil }
        return low...high
    }

    /// The routed complaints with ids in `ids`, newest first, at most `limit`, kept as
    /// PostgreSQL sent them (`BacktestPage`): the backtest's texts go to the classifier as bytes
    /// read in place, and only the complaints kept as examples become Strings.
    ///
    /// Pages are ranges of ids rather than "the next N below": both sides of the join and the
    /// corrections are then read from their indexes within the range. With a keyset and a
    /// LIMIT the planner walked the decisions from the newest down to each page (page k read k
    /// pages of them) and scanned every event of the table for the `corrected` flag, per page.
    public static func page(ids: Range<Int64>, cutoff: String?, limit: Int,
                            on db: PostgresConnection) throws(PostgresError) -> BacktestPage {
        let result = try db.query("""
            SELECT c.id, c.reference, c.body, c.arrondissement, rd.department AS routed_to, c.department,
                   c.id IN (\(AuditTrail.correctedByHand(idsFrom: "$1::bigint", below: "$2::bigint"))) AS corrected
            FROM complaints c JOIN routing_decisions rd ON rd.complaint_id = c.id
            WHERE c.id >= $1::bigint AND c.id < $2::bigint
              AND rd.complaint_id >= $1::bigint AND rd.complaint_id < $2::bigint
              AND ($3::timestamptz IS NULL OR c.submitted_at >= $3::timestamptz)
            ORDER BY c.id DESC
            LIMIT $4
            """, [ids.lowerBound, ids.upperBound, cutoff, limit])
        return try BacktestPage(result)
    }
}

/// One page of `BacktestStore.page(ids:cutoff:limit:on:)`: the query's result with its columns
/// found by name once, read row by row in place.
///
/// `@unchecked Sendable`: the reading thread makes it and hands it over whole; from then on
/// only the classifying thread reads it, and nothing writes it (libpq filled it before).
public final class BacktestPage: @unchecked Sendable {
    private let result: PostgresResult
    private let id, reference, body, arrondissement, routedTo, department, corrected: Int

    init(_ result: PostgresResult) throws(PostgresError) {
        self.result = result
        id = try result.position(of: "id")
        reference = try result.position(of: "reference")
        body = try result.position(of: "body")
        arrondissement = try result.position(of: "arrondissement")
        routedTo = try result.position(of: "routed_to")
        department = try result.position(of: "department")
        corrected = try result.position(of: "corrected")
    }

    public var count: Int { result.count }

    /// The id of the row, for the next page's keyset.
    public func id(_ row: Int) -> Int64 {
        result.withBytes(row: row, column: id) { bytes in
            guard let bytes else { return 0 }
            var value: Int64 = 0
            for b in bytes where b >= 0x30 && b <= 0x39 { value = value &* 10 &+ Int64(b - 0x30) }
            return value
        }
    }

    public func body<R>(_ row: Int, _ read: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        result.withBytes(row: row, column: body) { read($0 ?? UnsafeBufferPointer(start: nil, count: 0)) }
    }

    /// The arrondissement's bit (`CityDirectory.arrondissementBit`), 0 when there is none.
    public func arrondissementBit(_ row: Int) -> UInt32 {
        result.withBytes(row: row, column: arrondissement) { $0.map { CityDirectory.arrondissementBit(utf8: $0) } ?? 0 }
    }

    /// The department the router chose, as an index into `CityDirectory.departments`, or its
    /// code when the directory no longer knows it.
    public func routedTo(_ row: Int) -> DepartmentRef { ref(row, routedTo) ?? .unknown("") }

    /// Where the complaint is now (nil when nowhere).
    public func department(_ row: Int) -> DepartmentRef? { ref(row, department) }

    public func isCorrected(_ row: Int) -> Bool {
        result.withBytes(row: row, column: corrected) { $0?.first == UInt8(ascii: "t") }
    }

    /// The whole row as Swift values, for a complaint kept as an example.
    public func row(_ row: Int) -> BacktestRow {
        BacktestRow(id: id(row), reference: string(row, reference) ?? "", body: string(row, body) ?? "",
                    arrondissement: string(row, arrondissement), routedTo: string(row, routedTo) ?? "",
                    department: string(row, department), corrected: isCorrected(row))
    }

    /// A department code as the backtest compares it.
    public enum DepartmentRef: Equatable {
        case known(Int)
        case unknown(String)
    }

    private func ref(_ row: Int, _ column: Int) -> DepartmentRef? {
        result.withBytes(row: row, column: column) { bytes in
            guard let bytes else { return nil }
            if let index = CityDirectory.departmentIndex(utf8: bytes) { return .known(index) }
            return .unknown(String(decoding: bytes, as: UTF8.self))
        }
    }

    private func string(_ row: Int, _ column: Int) -> String? {
        result.withBytes(row: row, column: column) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }
}
