import CLibPQ

/// The rows of one query. Owns its `PGresult`, which is freed in `deinit` and nowhere else.
public final class PostgresResult {
    private let handle: OpaquePointer

    init(owning handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        PQclear(handle)
    }

    public var count: Int { Int(PQntuples(handle)) }
    public var columnCount: Int { Int(PQnfields(handle)) }

    /// Rows affected by an INSERT, UPDATE or DELETE (0 for other statements).
    public var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    public func columnName(_ index: Int) -> String {
        guard let name = PQfname(handle, Int32(index)) else { return "column \(index)" }
        return String(cString: name)
    }

    /// Positions of the columns read by name so far: libpq's `PQfnumber` (a scan of the
    /// column names) runs once per name and result, whatever the number of rows.
    private var positions: [String: Int] = [:]

    /// The position of the column `name`. A name that two columns share is an error rather than
    /// a silent read of the first: such a query must name its columns (`AS`).
    @usableFromInline
    func columnIndex(_ name: String) throws(PostgresError) -> Int {
        if let known = positions[name] { return known }
        let index = Int(PQfnumber(handle, name))
        guard index >= 0 else {
            throw PostgresError(code: .decoding, message: "the result has no column named '\(name)'")
        }
        let found = columnName(index)
        for other in (index + 1)..<max(index + 1, columnCount) where columnName(other) == found {
            throw PostgresError(code: .decoding,
                                message: "the result has more than one column named '\(found)'; name them apart with AS")
        }
        positions[name] = index
        return index
    }

    @usableFromInline
    func columnType(_ index: Int) -> UInt32 { UInt32(PQftype(handle, Int32(index))) }

    @usableFromInline
    func isNull(row: Int, column: Int) -> Bool { PQgetisnull(handle, Int32(row), Int32(column)) == 1 }

    // The errors of `PostgresRow.decode`, made here so its inlined body stays small; the
    // column's name is looked up only then.
    @usableFromInline
    func noColumnError(_ column: Int) -> PostgresError {
        PostgresError(code: .decoding, message: "no column \(column); the row has \(columnCount)")
    }

    @usableFromInline
    func typeError(_ column: Int, oid: UInt32, swiftName: String) -> PostgresError {
        PostgresError(code: .decoding,
                      message: "column '\(columnName(column))' is \(PostgresTypeOID.name(oid)), which cannot be read as \(swiftName)")
    }

    @usableFromInline
    func nullError(_ column: Int, swiftName: String) -> PostgresError {
        PostgresError(code: .decoding, message: "column '\(columnName(column))' is NULL; read it as \(swiftName)? to accept NULL")
    }

    @usableFromInline
    func valueError(_ column: Int, oid: UInt32, swiftName: String) -> PostgresError {
        PostgresError(code: .decoding,
                      message: "column '\(columnName(column))' (\(PostgresTypeOID.name(oid))) holds a value that is not a valid \(swiftName)")
    }

    @usableFromInline
    func text(row: Int, column: Int) -> String {
        guard let value = PQgetvalue(handle, Int32(row), Int32(column)) else { return "" }
        return String(cString: value)
    }

    /// The position of the column `name` (as `PostgresRow.decode(_:)` finds it), for readers
    /// of many rows that resolve their columns once per result.
    public func position(of name: String) throws(PostgresError) -> Int { try columnIndex(name) }

    /// The value at (`row`, `column`) in its text form as libpq holds it, without a copy or a
    /// String; nil for NULL. The bytes are valid only inside `body`. For readers of many rows
    /// whose values go straight to byte-level code (the backtest's complaint texts).
    public func withBytes<R>(row: Int, column: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        guard row >= 0, row < count, column >= 0, column < columnCount,
              PQgetisnull(handle, Int32(row), Int32(column)) == 0,
              let value = PQgetvalue(handle, Int32(row), Int32(column)) else { return body(nil) }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        return value.withMemoryRebound(to: UInt8.self, capacity: length) {
            body(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    public subscript(_ row: Int) -> PostgresRow { PostgresRow(result: self, index: row) }

    public var rows: [PostgresRow] { (0..<count).map { PostgresRow(result: self, index: $0) } }

    /// The first row, or an error naming what was expected.
    public func single() throws(PostgresError) -> PostgresRow {
        guard count >= 1 else {
            throw PostgresError(code: .unexpectedResult, message: "the query returned no row where one was expected")
        }
        return self[0]
    }
}

/// One row of a `PostgresResult`, read column by column into Swift types.
public struct PostgresRow {
    @usableFromInline let result: PostgresResult
    public let index: Int

    /// Reads the column at `column` (0-based) as `T`; use an optional type for nullable columns.
    ///
    /// Inlinable so that each store's reads are specialised for their types: called through the
    /// generic protocol witnesses, reading one value cost about 1,500 instructions (a sixth of
    /// the notifier's work outside rendering). The error paths stay out of line.
    @inlinable
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard column >= 0 && column < result.columnCount else { throw result.noColumnError(column) }
        let oid = result.columnType(column)
        if let accepted = T.acceptedTypes, !accepted.contains(oid) {
            throw result.typeError(column, oid: oid, swiftName: T.swiftName)
        }
        if result.isNull(row: index, column: column) {
            guard let value = T.decodeNull() else { throw result.nullError(column, swiftName: T.swiftName) }
            return value
        }
        guard let value = T.decode(text: result.text(row: index, column: column)) else {
            throw result.valueError(column, oid: oid, swiftName: T.swiftName)
        }
        return value
    }

    /// Reads the column named `column` (as libpq matches names: unquoted is case-folded). The
    /// name is looked up once per result; the stores read their rows this way, so a column
    /// added to a SELECT moves nothing that is read after it.
    @inlinable
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        try decode(try result.columnIndex(column), as: type)
    }
}
