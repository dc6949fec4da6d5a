import Foundation
import Postgres
import Synchronization
import Testing
import TestSupport

/// Against the real cluster named by DATABASE_URL; each test has a database of its own so the
/// suite runs in parallel. Skipped (not failed) when no cluster is given.
@Suite(.enabled(if: TestDatabase.available, "needs DATABASE_URL (run through scripts/test)"))
struct PostgresIntegrationTests {
    // MARK: round trips

    @Test func integersRoundTripAtTheirLimits() throws {
        let database = try TestDatabase("ints")
        defer { database.drop() }
        let db = try database.connect()
        let row = try db.query("SELECT $1::bigint, $2::bigint, $3::integer, $4::integer, $5::bigint, $6::smallint",
                               [Int64.max, Int64.min, Int32.max, Int32.min, Int(-42), Int32(7)]).single()
        #expect(try row.decode(0, as: Int64.self) == .max)
        #expect(try row.decode(1, as: Int64.self) == .min)
        #expect(try row.decode(2, as: Int32.self) == .max)
        #expect(try row.decode(3, as: Int32.self) == .min)
        #expect(try row.decode(4, as: Int.self) == -42)
        // A smallint column reads as any of the integer types.
        #expect(try row.decode(5, as: Int.self) == 7)
    }

    @Test func textRoundTripsArabicAndCharactersThatWouldBreakPastedSQL() throws {
        let database = try TestDatabase("text")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (id integer PRIMARY KEY, body text)")
        let samples = [
            "انقطاع الماء في حي مولاي رشيد منذ ثلاثة أيام، والرائحة لا تطاق!",
            "Le lampadaire devant l'école est éteint — ça dure depuis 2 semaines",
            "'); DROP TABLE t; --",
            "back\\slash \"quotes\" $1 ? %s \t tab\nnew line",
            "emoji 🚮 and combining é (e\u{301})",
            "",
        ]
        for (index, text) in samples.enumerated() {
            try db.execute("INSERT INTO t (id, body) VALUES ($1, $2)", [index, text])
        }
        let rows = try db.query("SELECT body, char_length(body) FROM t ORDER BY id").rows
        #expect(rows.count == samples.count)
        for (row, text) in zip(rows, samples) {
            #expect(try row.decode(0, as: String.self) == text)
            // The server counts the same characters: the text arrived as UTF-8, not mangled.
            #expect(try row.decode(1, as: Int.self) == text.unicodeScalars.count)
        }
        #expect(try db.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == samples.count)
    }

    @Test func arrayElementsRoundTripWhateverTheyHold() throws {
        let database = try TestDatabase("arrays")
        defer { database.drop() }
        let db = try database.connect()
        // Everything array_in treats specially: separators, braces, quotes, backslashes, spaces
        // at the ends, the word NULL as text, an empty string; and a real NULL.
        let samples: [String?] = [
            "plain", "a,b", "{braces}", "say \"hi\"", "back\\slash", "\\\"", "  spaced  ", "NULL", "", nil,
            "مولاي رشيد، {حي} \"2\"", "tab\there\nnew line",
        ]
        var array = PostgresArray()
        for sample in samples { array.append(sample) }
        let rows = try db.query("SELECT x, x IS NULL FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [array]).rows
        #expect(rows.count == samples.count)
        for (row, sample) in zip(rows, samples) {
            #expect(try row.decode(0, as: String?.self) == sample)
            #expect(try row.decode(1, as: Bool.self) == (sample == nil))
        }
        // Typed elements: JSON documents (checked as json, kept as written) and numbers.
        var documents = PostgresArray()
        documents.append("[{\"term\":\"a\\\"b\",\"weight\":3}]")
        documents.append("{}")
        let json = try db.query("SELECT x::text FROM unnest($1::json[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [documents]).rows
        #expect(try json.map { try $0.decode(0, as: String.self) } == ["[{\"term\":\"a\\\"b\",\"weight\":3}]", "{}"])
        var numbers = PostgresArray()
        for value in ["-9223372036854775808", "0.25", "1e-05"] { numbers.append(value) }
        #expect(try db.query("SELECT ($1::float8[])[3]", [numbers]).single().decode(0, as: Double.self) == 1e-05)
        #expect(try db.query("SELECT ($1::text[])[1]::bigint", [numbers]).single().decode(0, as: Int64.self) == Int64.min)
        #expect(try db.query("SELECT array_length($1::text[], 1)", [PostgresArray()]).single().decode(0, as: Int?.self) == nil)
        // Ids, as the stores pass them: every bigint, in order; none is an empty array.
        let ids: [Int64] = [Int64.min, -1, 0, 7, Int64.max]
        #expect(PostgresArray(ids).postgresText == "{-9223372036854775808,-1,0,7,9223372036854775807}")
        #expect(try db.query("SELECT x FROM unnest($1::bigint[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [PostgresArray(ids)])
            .rows.map { try $0.decode(0, as: Int64.self) } == ids)
        #expect(try db.query("SELECT cardinality($1::bigint[])", [PostgresArray([Int64]())]).single().decode(0, as: Int.self) == 0)
        // Integer lists as elements of their own (rows of different lengths), each cast alone.
        var lists = PostgresArray()
        for list: [Int32] in [[1, -2, 30], [], [Int32.min, Int32.max]] { lists.append(integerList: list) }
        lists.append(nil)
        #expect(try db.query("SELECT x::integer[]::text FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n) ORDER BY n", [lists])
            .rows.map { try $0.decode(0, as: String?.self) } == ["{1,-2,30}", "{}", "{-2147483648,2147483647}", nil])
    }

    @Test func jsonArraysInBinaryReadBackAsWritten() throws {
        let database = try TestDatabase("binary")
        defer { database.drop() }
        let db = try database.connect()
        let documents: [String?] = ["[{\"term\":\"a\\\"b\",\"text\":\"زبل\"}]", nil, "{}", "  [1, 2.50]  ", "\"\\\\\""]
        var array = PostgresJSONArray()
        for document in documents { array.append(document) }
        let sql = "SELECT x::text, n FROM unnest($1::json[]) WITH ORDINALITY AS u(x, n) WHERE n > $2 ORDER BY n"
        // Beside a text parameter, alone, prepared and in a pipeline: the same documents, as written.
        for rows in [try db.query(sql, [array, 0]).rows, try db.query(prepared: "binary_json", sql, [array, 0]).rows,
                     try db.pipeline([PostgresStatement(sql, [array, 0])])[0].rows] {
            #expect(try rows.map { try $0.decode(0, as: String?.self) } == documents)
        }
        #expect(try db.query("SELECT cardinality($1::json[])", [PostgresJSONArray()]).single().decode(0, as: Int.self) == 0)
        // The text form says the same.
        #expect(try db.query("SELECT $1::json[]::text = $2::json[]::text", [array, array.postgresText]).single().decode(0, as: Bool.self))
        // Still checked as JSON by the server.
        var broken = PostgresJSONArray()
        broken.append("{\"unclosed\": ")
        #expect(throws: PostgresError.self) { try db.query("SELECT $1::json[]", [broken]) }
        #expect(try db.query("SELECT 1").single().decode(0, as: Int.self) == 1)
    }

    // MARK: connection options

    @Test func kerberosIsNotProbedUnlessTheURLAsksForIt() throws {
        let database = try TestDatabase("gss")
        defer { database.drop() }
        // libpq's own default would be `prefer`, which loads Kerberos state into every thread
        // that connects; a process aborted at exit over it.
        #expect(try database.connect().option("gssencmode") == "disable")
        let separator = database.url.contains("?") ? "&" : "?"
        let asked = try PostgresConnection.connect(url: database.url + separator + "gssencmode=prefer",
                                                   applicationName: "chikaya-tests")
        #expect(asked.option("gssencmode") == "prefer")
    }

    // MARK: prepared statements

    @Test func aPreparedStatementIsPreparedOnceAndRunWithEachCallsParameters() throws {
        let database = try TestDatabase("prepared")
        defer { database.drop() }
        let db = try database.connect()
        let sql = "SELECT $1::integer * 2, $2::text"
        for value in [1, 21, -5] {
            let row = try db.query(prepared: "double", sql, [value, "n\(value)"]).single()
            #expect(try row.decode(0, as: Int.self) == value * 2)
            #expect(try row.decode(1, as: String.self) == "n\(value)")
        }
        // The server holds it once, under its name.
        #expect(try db.query("SELECT count(*) FROM pg_prepared_statements WHERE name = 'double'").single()
            .decode(0, as: Int.self) == 1)
        // It outlives a rolled-back transaction.
        try db.executeScript("BEGIN")
        _ = try db.query(prepared: "double", sql, [2, "in"])
        try db.executeScript("ROLLBACK")
        #expect(try db.query(prepared: "double", sql, [3, "after"]).single().decode(0, as: Int.self) == 6)
    }

    @Test func aPreparedNameGivenAnotherTextIsRefused() throws {
        let database = try TestDatabase("prepared_other")
        defer { database.drop() }
        let db = try database.connect()
        _ = try db.query(prepared: "one", "SELECT 1")
        do {
            _ = try db.query(prepared: "one", "SELECT 2")
            Issue.record("a second text under the same name was accepted")
        } catch {
            #expect(error.code == .invalidParameter)
        }
    }

    @Test func aPreparedStatementTheServerForgotIsPreparedAgainOnTheNextCall() throws {
        let database = try TestDatabase("prepared_discard")
        defer { database.drop() }
        let db = try database.connect()
        let sql = "SELECT $1::integer + 1"
        #expect(try db.query(prepared: "next", sql, [1]).single().decode(0, as: Int.self) == 2)
        try db.executeScript("DEALLOCATE ALL")
        do {
            _ = try db.query(prepared: "next", sql, [1])
            Issue.record("a statement the server no longer holds ran")
        } catch {
            #expect(error.sqlState == "26000")
        }
        #expect(try db.query(prepared: "next", sql, [41]).single().decode(0, as: Int.self) == 42)
    }

    @Test func textWithANulByteIsRefusedBeforeTheServerNotCutShort() throws {
        let database = try TestDatabase("nul")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (id integer PRIMARY KEY, body text)")
        do {
            try db.execute("INSERT INTO t (id, body) VALUES ($1, $2)", [1, "before\u{0}after"])
            Issue.record("a NUL byte was sent")
        } catch {
            #expect(error.code == .invalidParameter)
            #expect(error.message.contains("$2"))
        }
        #expect(try db.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0)
        #expect(db.isConnected)
    }

    @Test func boolsDoublesAndJSONRoundTrip() throws {
        let database = try TestDatabase("scalars")
        defer { database.drop() }
        let db = try database.connect()
        let json = #"{"ar": "نظافة", "n": [1, 2.5, null], "ok": true}"#
        let row = try db.query("SELECT $1::boolean, $2::boolean, $3::float8, $4::float8, $5::float8, $6::json, $7::jsonb -> 'ar', $8::numeric",
                               [true, false, 0.1, -1.5e300, Double.infinity, PostgresJSON(json), PostgresJSON(json), 2.25]).single()
        #expect(try row.decode(0, as: Bool.self) == true)
        #expect(try row.decode(1, as: Bool.self) == false)
        #expect(try row.decode(2, as: Double.self) == 0.1)
        #expect(try row.decode(3, as: Double.self) == -1.5e300)
        #expect(try row.decode(4, as: Double.self) == .infinity)
        // `json` keeps the text as sent; jsonb is parsed, so its Arabic string came through intact.
        #expect(try row.decode(5, as: PostgresJSON.self) == PostgresJSON(json))
        #expect(try row.decode(6, as: PostgresJSON.self) == PostgresJSON(#""نظافة""#))
        #expect(try row.decode(7, as: Double.self) == 2.25)
    }

    @Test func datesRoundTripToTheMicrosecondAndMeanTheSameInstantToTheServer() throws {
        let database = try TestDatabase("dates")
        defer { database.drop() }
        let db = try database.connect()
        for seconds in [1_795_719_600.123456, 0, -1.25, 951_782_400.5] {
            let date = Date(timeIntervalSince1970: seconds)
            let row = try db.query("SELECT $1::timestamptz, extract(epoch FROM $1::timestamptz)::float8", [date]).single()
            let back = try row.decode(0, as: Date.self)
            #expect(abs(back.timeIntervalSince1970 - seconds) < 0.000_001)
            // Checked independently of our parser: the server read the instant we meant.
            #expect(abs(try row.decode(1, as: Double.self) - seconds) < 0.000_001)
        }
        // A value the server makes in another zone is still read as the same instant.
        let row = try db.query("SELECT '2026-11-26 20:00:00+01'::timestamptz, now()").single()
        #expect(try row.decode(0, as: Date.self) == Date(timeIntervalSince1970: 1_795_719_600))
        #expect(abs(try row.decode(1, as: Date.self).timeIntervalSinceNow) < 60)
    }

    @Test func optionalsReadNullAsNilAndValuesAsValues() throws {
        let database = try TestDatabase("optionals")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("""
            CREATE TABLE o (id integer PRIMARY KEY, i8 bigint, i4 integer, s text, b boolean,
                            d float8, ts timestamptz, j jsonb)
            """)
        let date = Date(timeIntervalSince1970: 1_795_719_600.5)
        let noInt: Int64? = nil
        let noText: String? = nil
        try db.execute("INSERT INTO o VALUES (1, $1, $2, $3, $4, $5, $6, $7::jsonb)",
                       [Int64(5), Int32(-3), "سلام", true, 2.5, date, PostgresJSON("[1]")])
        try db.execute("INSERT INTO o VALUES (2, $1, $2, $3, $4, $5, $6, $7::jsonb)",
                       [noInt, nil, noText, nil, nil, nil, nil])
        let rows = try db.query("SELECT i8, i4, s, b, d, ts, j FROM o ORDER BY id").rows
        try #require(rows.count == 2)
        let full = rows[0], empty = rows[1]
        #expect(try full.decode("i8", as: Int64?.self) == 5)
        #expect(try full.decode("i4", as: Int32?.self) == -3)
        #expect(try full.decode("i4", as: Int?.self) == -3)
        #expect(try full.decode("s", as: String?.self) == "سلام")
        #expect(try full.decode("b", as: Bool?.self) == true)
        #expect(try full.decode("d", as: Double?.self) == 2.5)
        #expect(try full.decode("ts", as: Date?.self) == date)
        #expect(try full.decode("j", as: PostgresJSON?.self) == PostgresJSON("[1]"))

        #expect(try empty.decode("i8", as: Int64?.self) == nil)
        #expect(try empty.decode("i4", as: Int32?.self) == nil)
        #expect(try empty.decode("i4", as: Int?.self) == nil)
        #expect(try empty.decode("s", as: String?.self) == nil)
        #expect(try empty.decode("b", as: Bool?.self) == nil)
        #expect(try empty.decode("d", as: Double?.self) == nil)
        #expect(try empty.decode("ts", as: Date?.self) == nil)
        #expect(try empty.decode("j", as: PostgresJSON?.self) == nil)
        // NULL is not an empty string: a non-optional read must fail, not invent a value.
        #expect(throws: PostgresError.self) { try empty.decode("s", as: String.self) }
    }

    // MARK: decoding errors

    @Test func wrongTypeNamesTheColumnAndBothTypes() throws {
        let database = try TestDatabase("decodeerr")
        defer { database.drop() }
        let db = try database.connect()
        let row = try db.query("SELECT 'abc'::text AS word, NULL::bigint AS missing, 1.5::float8 AS ratio").single()
        let error = try #require(throws: PostgresError.self) { try row.decode("word", as: Int64.self) }
        #expect(error.code == .decoding)
        #expect(error.message.contains("'word'"))
        #expect(error.message.contains("text"))
        #expect(error.message.contains("Int64"))

        let nullError = try #require(throws: PostgresError.self) { try row.decode("missing", as: Int64.self) }
        #expect(nullError.code == .decoding)
        #expect(nullError.message.contains("'missing'") && nullError.message.contains("NULL") && nullError.message.contains("Int64"))

        let boolError = try #require(throws: PostgresError.self) { try row.decode(2, as: Bool.self) }
        #expect(boolError.message.contains("'ratio'") && boolError.message.contains("double precision") && boolError.message.contains("Bool"))

        let outOfRange = try #require(throws: PostgresError.self) { try row.decode(9, as: String.self) }
        #expect(outOfRange.code == .decoding)
        let noColumn = try #require(throws: PostgresError.self) { try row.decode("nope", as: String.self) }
        #expect(noColumn.message.contains("'nope'"))
    }

    @Test func columnsAreReadByNameWhereverTheyStandAndSharedNamesAreRefused() throws {
        let database = try TestDatabase("byname")
        defer { database.drop() }
        let db = try database.connect()
        let result = try db.query("SELECT g * 10 AS tens, 'r' || g AS label, g AS n FROM generate_series(1, 50) g ORDER BY g")
        let read = try result.rows.map { row throws(PostgresError) in
            "\(try row.decode("n", as: Int.self)) \(try row.decode("label", as: String.self)) \(try row.decode("tens", as: Int.self))"
        }
        #expect(read.first == "1 r1 10" && read.last == "50 r50 500" && read.count == 50)
        // Unquoted names are case-folded, as in SQL.
        #expect(try result[0].decode("LABEL", as: String.self) == "r1")

        let shared = try db.query("SELECT 1 AS a, 2 AS a, 3 AS b").single()
        let error = try #require(throws: PostgresError.self) { try shared.decode("a", as: Int.self) }
        #expect(error.code == .decoding && error.message.contains("more than one column named 'a'"))
        #expect(try shared.decode("b", as: Int.self) == 3)
    }

    @Test func valueTooLargeForTheSwiftTypeIsADecodingErrorNotATruncation() throws {
        let database = try TestDatabase("overflow")
        defer { database.drop() }
        let db = try database.connect()
        let row = try db.query("SELECT 3000000000::bigint AS big").single()
        let error = try #require(throws: PostgresError.self) { try row.decode("big", as: Int32.self) }
        #expect(error.code == .decoding)
        #expect(error.message.contains("'big'") && error.message.contains("bigint") && error.message.contains("Int32"))
    }

    @Test func emptyResultHasNoSingleRow() throws {
        let database = try TestDatabase("single")
        defer { database.drop() }
        let db = try database.connect()
        let error = try #require(throws: PostgresError.self) { try db.query("SELECT 1 WHERE false").single() }
        #expect(error.code == .unexpectedResult)
    }

    // MARK: transactions and server errors

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() throws {
        let database = try TestDatabase("tx")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer)")
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try db.transaction { tx in
                try tx.execute("INSERT INTO t VALUES ($1)", [1])
                throw Abort()
            }
        }
        // Had the transaction been left open, its INSERT would hold a transaction id here.
        #expect(try db.query("SELECT pg_current_xact_id_if_assigned() IS NULL").single().decode(0, as: Bool.self))
        let count = try db.transaction { tx in
            try tx.execute("INSERT INTO t VALUES ($1)", [2])
        }
        #expect(count == 1)
        #expect(try db.query("SELECT array_agg(v)::text FROM t").single().decode(0, as: String.self) == "{2}")
        // The connection is usable after the rollback: no transaction was left open.
        let other = try database.connect()
        #expect(try other.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 1)
    }

    @Test func serverErrorInsideTransactionRollsBackEarlierStatements() throws {
        let database = try TestDatabase("txerr")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer PRIMARY KEY)")
        let error = try #require(throws: PostgresError.self) {
            try db.transaction { tx in
                try tx.execute("INSERT INTO t VALUES ($1)", [1])
                try tx.execute("INSERT INTO t VALUES ($1)", [1])
            }
        }
        #expect(error.sqlState == SQLState.uniqueViolation)
        #expect(try db.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0)
    }

    // MARK: pipelines

    @Test func aPipelineRunsItsStatementsInOrderAndAnOpenTransactionSpansSeveral() throws {
        let database = try TestDatabase("pipe")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer PRIMARY KEY)")
        let opened = try db.pipeline([
            PostgresStatement("BEGIN"),
            PostgresStatement("INSERT INTO t VALUES ($1), ($2) RETURNING v", [1, 2]),
            PostgresStatement("SELECT count(*), $1::text FROM t", ["après"]),
        ])
        #expect(opened.count == 3)
        #expect(opened[1].count == 2)
        #expect(try opened[2].single().decode(0, as: Int.self) == 2)
        #expect(try opened[2].single().decode(1, as: String.self) == "après")
        #expect(db.isInTransaction)
        let other = try database.connect()
        #expect(try other.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0, "not committed yet")
        let closed = try db.pipeline([PostgresStatement("INSERT INTO t VALUES ($1)", [3]), PostgresStatement("COMMIT")])
        #expect(closed[0].affectedRows == 1)
        #expect(!db.isInTransaction)
        #expect(try other.query("SELECT array_agg(v ORDER BY v)::text FROM t").single().decode(0, as: String.self) == "{1,2,3}")
    }

    @Test func aFailureInAPipelineSkipsTheRestAndOutsideABlockUndoesWhatCameBefore() throws {
        let database = try TestDatabase("pipefail")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer PRIMARY KEY)")
        try db.execute("INSERT INTO t VALUES (1)")
        let error = try #require(throws: PostgresError.self) {
            try db.pipeline([
                PostgresStatement("INSERT INTO t VALUES ($1)", [2]),
                PostgresStatement("INSERT INTO t VALUES ($1)", [1]),
                PostgresStatement("INSERT INTO t VALUES ($1)", [3]),
            ])
        }
        #expect(error.sqlState == SQLState.uniqueViolation)
        // One implicit transaction: the statement before the failure is undone, the one after
        // never ran; the connection is back in its ordinary mode and usable.
        #expect(!db.isInTransaction)
        #expect(try db.query("SELECT array_agg(v ORDER BY v)::text FROM t").single().decode(0, as: String.self) == "{1}")
    }

    @Test func aFailureInsideABlockLeavesItAbortedForTheCallerToEnd() throws {
        let database = try TestDatabase("pipeblock")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer PRIMARY KEY)")
        let error = try #require(throws: PostgresError.self) {
            try db.pipeline([
                PostgresStatement("BEGIN"),
                PostgresStatement("INSERT INTO t VALUES ($1)", [1]),
                PostgresStatement("SAVEPOINT s"),
                PostgresStatement("INSERT INTO t VALUES ($1)", [1]),
                PostgresStatement("COMMIT"),
            ])
        }
        #expect(error.sqlState == SQLState.uniqueViolation)
        #expect(db.isInTransaction, "the COMMIT after the failure was skipped")
        // Back to the savepoint, the block goes on: the work before it is kept.
        try db.executeScript("ROLLBACK TO SAVEPOINT s")
        _ = try db.pipeline([PostgresStatement("INSERT INTO t VALUES ($1)", [2]), PostgresStatement("COMMIT")])
        #expect(try db.query("SELECT array_agg(v ORDER BY v)::text FROM t").single().decode(0, as: String.self) == "{1,2}")
    }

    @Test func aRefusedParameterSendsNothingOfThePipeline() throws {
        let database = try TestDatabase("pipenul")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v text)")
        let error = try #require(throws: PostgresError.self) {
            try db.pipeline([
                PostgresStatement("INSERT INTO t VALUES ($1)", ["first"]),
                PostgresStatement("INSERT INTO t VALUES ($1)", ["a\u{0}b"]),
            ])
        }
        #expect(error.code == .invalidParameter)
        #expect(try db.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0)
        #expect(try db.pipeline([]).isEmpty)
    }

    @Test func aPipelinePreparesAStatementOnItsFirstRunAndRunsItByNameAfterwards() throws {
        let database = try TestDatabase("pipeprep")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer PRIMARY KEY)")
        let insert = "INSERT INTO t VALUES ($1) RETURNING v * 10"
        for value in [1, 2] {
            let results = try db.pipeline([
                PostgresStatement("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"),
                PostgresStatement(prepared: "insert_t", insert, [value]),
            ])
            #expect(try results[1].single().decode(0, as: Int.self) == value * 10)
        }
        // One preparation: the second pipeline ran it by name, with its generic plan (asked for
        // in the same implicit transaction, and gone with it).
        let held = try db.query("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'insert_t'").single()
        #expect(try held.decode(0, as: Int.self) == 2)
        #expect(try held.decode(1, as: Int.self) == 0)
        #expect(try db.query("SHOW plan_cache_mode").single().decode(0, as: String.self) == "auto")
        // The same name outside a pipeline is the same statement.
        #expect(try db.query(prepared: "insert_t", insert, [3]).single().decode(0, as: Int.self) == 30)
        #expect(try db.query("SELECT array_agg(v ORDER BY v)::text FROM t").single().decode(0, as: String.self) == "{1,2,3}")
    }

    @Test func aPreparationThatFailsIsItsStatementsErrorAndIsTriedAgainNextTime() throws {
        let database = try TestDatabase("pipeprepfail")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer PRIMARY KEY)")
        for _ in 0..<2 {
            let outcomes = try db.pipelineOutcomes([
                PostgresStatement("INSERT INTO t VALUES ($1)", [1]),
                PostgresStatement(prepared: "broken", "SELECT v FROM no_such_table WHERE v = $1", [1]),
                PostgresStatement("INSERT INTO t VALUES ($1)", [2]),
            ])
            guard case .failure(let error) = outcomes[1] else {
                Issue.record("a statement on a missing table ran")
                continue
            }
            #expect(error.sqlState == "42P01")
            guard case .failure(let skipped) = outcomes[2] else {
                Issue.record("the statement after a failed preparation ran")
                continue
            }
            #expect(skipped.message == PostgresConnection.skippedInPipeline.message)
        }
        // Nothing committed (one implicit transaction), nothing held by the server, and the table
        // once there the same name prepares.
        #expect(try db.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0)
        #expect(try db.query("SELECT count(*) FROM pg_prepared_statements").single().decode(0, as: Int.self) == 0)
        try db.executeScript("CREATE TABLE no_such_table (v integer)")
        let results = try db.pipeline([PostgresStatement(prepared: "broken", "SELECT v FROM no_such_table WHERE v = $1", [1])])
        #expect(results[0].count == 0)
    }

    @Test func aPipelinePreparesAgainWhatTheServerForgotAndRefusesAnotherTextUnderAName() throws {
        let database = try TestDatabase("pipeprepgone")
        defer { database.drop() }
        let db = try database.connect()
        let sql = "SELECT $1::integer + 1"
        #expect(try db.pipeline([PostgresStatement(prepared: "next", sql, [1])])[0].single().decode(0, as: Int.self) == 2)
        try db.executeScript("DEALLOCATE ALL")
        let error = try #require(throws: PostgresError.self) {
            try db.pipeline([PostgresStatement(prepared: "next", sql, [1])])
        }
        #expect(error.sqlState == "26000")
        #expect(try db.pipeline([PostgresStatement(prepared: "next", sql, [41])])[0].single().decode(0, as: Int.self) == 42)
        // Another text under a name already used: refused before anything is sent.
        try db.executeScript("CREATE TABLE t (v integer)")
        let refused = try #require(throws: PostgresError.self) {
            try db.pipeline([PostgresStatement("INSERT INTO t VALUES (1)"), PostgresStatement(prepared: "next", "SELECT 2")])
        }
        #expect(refused.code == .invalidParameter)
        #expect(try db.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0)
    }

    // MARK: statements sent without waiting

    @Test func statementsSentWithoutWaitingRunInOrderEachInItsOwnTransactionAndAreCollectedLater() throws {
        let database = try TestDatabase("sent")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer PRIMARY KEY)")
        // Another session holds the table, so the server cannot finish the first statement.
        let holder = try database.connect()
        try holder.executeScript("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        try db.send(PostgresStatement("SELECT count(*) FROM t"))
        try db.send(PostgresStatement("INSERT INTO t VALUES ($1)", [1]))
        try db.send(PostgresStatement("INSERT INTO t VALUES ($1)", [1]))
        try db.send(PostgresStatement("INSERT INTO t VALUES ($1) RETURNING v", [2]))
        // Back at once, while the server waits on the lock.
        #expect(db.sentAwaitingResults == 4)
        #expect(try db.collectSent(waiting: false).isEmpty)
        try holder.executeScript("ROLLBACK")
        let outcomes = try db.collectSent(waiting: true)
        #expect(db.sentAwaitingResults == 0)
        #expect(outcomes.count == 4)
        guard outcomes.count == 4 else { return }
        guard case .failure(let duplicate) = outcomes[2] else {
            Issue.record("a duplicate key was inserted")
            return
        }
        #expect(duplicate.sqlState == SQLState.uniqueViolation)
        // Each in its own transaction: the failure undid nothing before or after it.
        #expect(try outcomes[3].get().single().decode(0, as: Int.self) == 2)
        #expect(!db.isInTransaction)
        #expect(try db.query("SELECT array_agg(v ORDER BY v)::text FROM t").single().decode(0, as: String.self) == "{1,2}")
    }

    @Test func anyOtherUseOfTheConnectionFirstWaitsForWhatWasSent() throws {
        let database = try TestDatabase("sentthen")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (v integer)")
        try db.send(PostgresStatement("INSERT INTO t SELECT $1 FROM pg_sleep(0.2)", [7]))
        #expect(try db.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 1)
        #expect(db.sentAwaitingResults == 0)
        try db.send(PostgresStatement("INSERT INTO t VALUES ($1)", [8]))
        #expect(try db.pipeline([PostgresStatement("SELECT count(*) FROM t")])[0].single().decode(0, as: Int.self) == 2)
        try db.send(PostgresStatement("SELECT pg_notify('sent_channel', 'after')"))
        try db.listen("sent_channel")
        try db.send(PostgresStatement("SELECT pg_notify('sent_channel', 'sent')"))
        #expect(try db.waitForNotifications(timeout: 10).map(\.payload) == ["sent"])
        #expect(try db.collectSent(waiting: true).isEmpty, "what another use waited for is not reported again")
    }

    @Test func uniqueViolationSurfacesSQLState23505() throws {
        let database = try TestDatabase("unique")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (email text CONSTRAINT t_email_key UNIQUE)")
        try db.execute("INSERT INTO t VALUES ($1)", ["a@example.org"])
        let error = try #require(throws: PostgresError.self) {
            try db.execute("INSERT INTO t VALUES ($1)", ["a@example.org"])
        }
        #expect(error.code == .server)
        #expect(error.sqlState == "23505")
        #expect(error.severity == "ERROR")
        #expect(error.message.contains("t_email_key"))
        #expect(error.description.hasPrefix("SQLSTATE 23505: "))
        #expect(!error.isConnectionProblem)
        #expect(db.isConnected)
    }

    /// The description goes to logs; a failing row's detail would copy a citizen's data there.
    @Test func errorDescriptionDoesNotRepeatTheBoundValues() throws {
        let database = try TestDatabase("safelog")
        defer { database.drop() }
        let db = try database.connect()
        try db.executeScript("CREATE TABLE t (name text, email text UNIQUE, CHECK (name <> 'x' OR email IS NULL))")
        try db.execute("INSERT INTO t VALUES ($1, $2)", ["Fatima Zahra", "fz@example.ma"])
        let unique = try #require(throws: PostgresError.self) {
            try db.execute("INSERT INTO t VALUES ($1, $2)", ["Fatima Zahra", "fz@example.ma"])
        }
        let check = try #require(throws: PostgresError.self) {
            try db.execute("INSERT INTO t VALUES ($1, $2)", ["x", "secret@example.ma"])
        }
        #expect(check.sqlState == SQLState.checkViolation)
        for error in [unique, check] {
            #expect(!error.description.contains("example.ma"))
        }
        // The detail stays available to code that decides to show it.
        #expect(unique.detail?.contains("fz@example.ma") == true)
    }

    // MARK: LISTEN / NOTIFY

    @Test(.timeLimit(.minutes(1)))
    func notificationWithPayloadCrossesConnections() throws {
        let database = try TestDatabase("notify")
        defer { database.drop() }
        let listener = try database.connect()
        try listener.listen("complaints ready")
        let url = database.url
        let senderPID = Mutex<Int32>(0)
        let failure = Mutex<String?>(nil)
        // The sender lives on its own thread with its own connection and speaks while the
        // listener is already asleep in poll, which is the case that matters.
        let sender = Thread {
            do {
                let db = try PostgresConnection.connect(url: url, applicationName: "sender")
                senderPID.withLock { $0 = db.backendPID }
                Thread.sleep(forTimeInterval: 0.3)
                try db.notify("complaints ready", payload: "CC-2026-000042 مولاي رشيد")
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
        }
        sender.start()
        let start = Date()
        let received = try listener.waitForNotifications(timeout: 20)
        #expect(failure.withLock { $0 } == nil)
        let note = try #require(received.first)
        #expect(received.count == 1)
        #expect(note.channel == "complaints ready")
        #expect(note.payload == "CC-2026-000042 مولاي رشيد")
        #expect(note.senderPID == senderPID.withLock { $0 })
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func notificationsSentInOneTransactionAllArriveAndOtherChannelsDoNot() throws {
        let database = try TestDatabase("notifymany")
        defer { database.drop() }
        let listener = try database.connect()
        try listener.listen("a")
        let sender = try database.connect()
        try sender.transaction { tx in
            try tx.notify("a", payload: "1")
            try tx.notify("b", payload: "ignored")
            try tx.notify("a", payload: "2")
        }
        var payloads: [String] = []
        // Both usually arrive in one read; keep waiting briefly in case they are split.
        while payloads.count < 2 {
            let batch = try listener.waitForNotifications(timeout: 5)
            if batch.isEmpty { break }
            #expect(batch.allSatisfy { $0.channel == "a" })
            payloads += batch.map(\.payload)
        }
        #expect(payloads == ["1", "2"])
        try listener.unlisten("a")
        try sender.notify("a", payload: "3")
        #expect(try listener.waitForNotifications(timeout: 0.3).isEmpty)
    }

    @Test func waitTimesOutWithNothingWhenNothingComes() throws {
        let database = try TestDatabase("timeout")
        defer { database.drop() }
        let listener = try database.connect()
        try listener.listen("quiet")
        let start = Date()
        let received = try listener.waitForNotifications(timeout: 0.5)
        let elapsed = Date().timeIntervalSince(start)
        #expect(received.isEmpty)
        #expect(elapsed >= 0.45)
        #expect(elapsed < 5)
        // A zero timeout is a non-blocking check.
        #expect(try listener.waitForNotifications(timeout: 0).isEmpty)
    }

    // MARK: lost and failed connections

    @Test(.timeLimit(.minutes(1)))
    func terminatedBackendGivesConnectionLostNotAHang() throws {
        let database = try TestDatabase("terminated")
        defer { database.drop() }
        let victim = try database.connect()
        let admin = try database.connect()
        #expect(try admin.query("SELECT pg_terminate_backend($1)", [victim.backendPID]).single().decode(0, as: Bool.self))
        // Give the server a moment to close the socket, so the next call sees it whatever the timing.
        Thread.sleep(forTimeInterval: 0.2)
        let error = try #require(throws: PostgresError.self) { try victim.query("SELECT 1") }
        #expect(error.code == .connectionLost)
        #expect(error.isConnectionProblem)
        #expect(!victim.isConnected)
    }

    @Test(.timeLimit(.minutes(1)))
    func terminatedBackendInsideTransactionThrowsConnectionLost() throws {
        let database = try TestDatabase("txlost")
        defer { database.drop() }
        let victim = try database.connect()
        let admin = try database.connect()
        try victim.executeScript("CREATE TABLE t (v integer)")
        let pid = victim.backendPID
        let error = try #require(throws: PostgresError.self) {
            try victim.transaction { tx in
                try tx.execute("INSERT INTO t VALUES (1)")
                try admin.query("SELECT pg_terminate_backend($1)", [pid])
                Thread.sleep(forTimeInterval: 0.2)
                try tx.execute("INSERT INTO t VALUES (2)")
            }
        }
        #expect(error.isConnectionProblem)
        #expect(try admin.query("SELECT count(*) FROM t").single().decode(0, as: Int.self) == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func terminatedBackendWhileWaitingForNotificationsThrows() throws {
        let database = try TestDatabase("waitlost")
        defer { database.drop() }
        let listener = try database.connect()
        try listener.listen("c")
        let admin = try database.connect()
        try admin.query("SELECT pg_terminate_backend($1)", [listener.backendPID])
        let start = Date()
        let error = try #require(throws: PostgresError.self) { try listener.waitForNotifications(timeout: 30) }
        #expect(error.code == .connectionLost)
        // Noticed when the socket closes, not at the end of the 30 s wait.
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func refusedServerFailsWithConnectionFailed() throws {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let error = try #require(throws: PostgresError.self) {
            try PostgresConnection.connect(url: "postgresql://postgres@127.0.0.1:1/postgres", applicationName: "t", connectTimeout: 2)
        }
        #expect(error.code == .connectionFailed)
        #expect(error.isConnectionProblem)
        // libpq's multi-line message is folded into one line for logs and the CLI.
        #expect(!error.description.contains("\n"))
        #expect(!error.message.isEmpty)
    }

    @Test func malformedConninfoFailsWithConnectionFailed() throws {
        for conninfo in ["nosuchoption=1", "postgresql://[bad", "host='unterminated"] {
            let error = try #require(throws: PostgresError.self) {
                try PostgresConnection.connect(url: conninfo, applicationName: "t", connectTimeout: 2)
            }
            #expect(error.code == .connectionFailed, "\(conninfo)")
        }
    }

    @Test func missingDatabaseFailsWithConnectionFailed() throws {
        let database = try TestDatabase("missing")
        database.drop()
        let error = try #require(throws: PostgresError.self) {
            try PostgresConnection.connect(url: database.url, applicationName: "t")
        }
        #expect(error.code == .connectionFailed)
        #expect(error.message.contains(database.name))
    }

    @Test func applicationNameIsVisibleToOperators() throws {
        let database = try TestDatabase("appname")
        defer { database.drop() }
        let db = try PostgresConnection.connect(url: database.url, applicationName: "chikaya-worker-7")
        #expect(try db.query("SELECT current_setting('application_name')").single().decode(0, as: String.self) == "chikaya-worker-7")
    }
}
