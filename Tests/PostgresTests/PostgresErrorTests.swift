import Testing
@testable import Postgres

/// Error mapping without a server: what callers log and how they decide to reconnect.
@Suite struct PostgresErrorUnitTests {
    @Test func descriptionCarriesSQLStateMessageAndHint() {
        let error = PostgresError(code: .server, message: "duplicate key value violates unique constraint \"t_pkey\"",
                                  sqlState: "23505", severity: "ERROR", hint: "use another key")
        #expect(error.description == "SQLSTATE 23505: duplicate key value violates unique constraint \"t_pkey\" (hint: use another key)")
    }

    @Test func descriptionWithoutSQLStateIsTheMessageAlone() {
        let error = PostgresError(code: .connectionFailed, message: "connection refused")
        #expect(error.description == "connection refused")
    }

    /// The server's detail quotes row values (a citizen's email in "Key (email)=(...)"), so it is
    /// kept on the error but never put in the text that goes to logs.
    @Test func detailIsKeptButNotDescribed() {
        let error = PostgresError(code: .server, message: "duplicate key", sqlState: "23505",
                                  detail: "Key (email)=(citizen@example.ma) already exists.")
        #expect(error.detail == "Key (email)=(citizen@example.ma) already exists.")
        #expect(error.description == "SQLSTATE 23505: duplicate key")
    }

    @Test func emptyHintIsNotPrinted() {
        let error = PostgresError(code: .server, message: "boom", sqlState: "XX000", hint: "")
        #expect(error.description == "SQLSTATE XX000: boom")
    }

    @Test(arguments: [PostgresError.Code.connectionFailed, .connectionLost])
    func connectionCodesAreConnectionProblems(_ code: PostgresError.Code) {
        #expect(PostgresError(code: code, message: "x").isConnectionProblem)
    }

    @Test(arguments: [PostgresError.Code.decoding, .unexpectedResult, .timeout])
    func localFailuresAreNotConnectionProblems(_ code: PostgresError.Code) {
        #expect(!PostgresError(code: code, message: "x").isConnectionProblem)
    }

    /// Class 08 and the shutdown states mean the session is gone even if libpq still says OK.
    @Test(arguments: ["08000", "08003", "08006", "08P01", "57P01", "57P02", "57P03"])
    func serverStatesOfBrokenSessionsAreConnectionProblems(_ state: String) {
        #expect(PostgresError(code: .server, message: "x", sqlState: state).isConnectionProblem)
    }

    /// Data errors must not make a worker throw its connection away.
    @Test(arguments: ["23505", "23514", "23503", "22P02", "40001", "57014", "P0001", "42P01"])
    func statementErrorsAreNotConnectionProblems(_ state: String) {
        #expect(!PostgresError(code: .server, message: "x", sqlState: state).isConnectionProblem)
    }

    @Test func serverErrorWithoutSQLStateIsNotAConnectionProblem() {
        #expect(!PostgresError(code: .server, message: "x").isConnectionProblem)
    }
}

/// Contention (another session's locks) is told apart from other server errors, so the worker
/// retries a batch later instead of writing it row by row into the same lock.
@Suite struct PostgresContentionUnitTests {
    @Test(arguments: ["55P03", "40P01", "40001"])
    func contentionStates(state: String) {
        #expect(PostgresError(code: .server, message: "m", sqlState: state).isContention)
    }

    @Test(arguments: ["23505", "42P01", "57P01"])
    func otherStates(state: String) {
        #expect(!PostgresError(code: .server, message: "m", sqlState: state).isContention)
    }

    @Test func connectionLossIsNotContention() {
        #expect(!PostgresError(code: .connectionLost, message: "m", sqlState: "55P03").isContention)
    }
}
