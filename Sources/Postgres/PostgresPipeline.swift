import CLibPQ
import Glibc

/// One statement of a pipeline: its text and its values, bound as parameters (`$1`, `$2`, ...).
public struct PostgresStatement {
    public let sql: String
    public let parameters: [(any PostgresBindable)?]
    /// The name it is prepared under on the connection (see `query(prepared:_:_:)`); nil: parsed
    /// and planned on each run.
    public let preparedName: String?

    public init(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) {
        self.sql = sql
        self.parameters = parameters
        self.preparedName = nil
    }

    /// A statement prepared once per connection under `name`, as `query(prepared:_:_:)` does; in a
    /// pipeline, its first run prepares it in the same round trip.
    public init(prepared name: String, _ sql: String, _ parameters: [(any PostgresBindable)?] = []) {
        self.sql = sql
        self.parameters = parameters
        self.preparedName = name
    }
}

extension PostgresConnection {
    /// Runs one statement built as a `PostgresStatement` (see `query(_:_:)` and `query(prepared:_:_:)`).
    @discardableResult
    public func query(_ statement: PostgresStatement) throws(PostgresError) -> PostgresResult {
        if let name = statement.preparedName { return try query(prepared: name, statement.sql, statement.parameters) }
        return try query(statement.sql, statement.parameters)
    }

    /// Sends `statements` together and reads their results in order: one round trip to the
    /// server for all of them (libpq's pipeline mode, one Sync at the end) instead of one each.
    ///
    /// The server runs them one after the other, as if they were sent one by one, except that it
    /// skips every statement after one that fails: that first failure is thrown once all was
    /// read, and the connection is back in its ordinary mode. Outside a transaction block the
    /// statements up to the end, or up to a COMMIT among them, form one implicit transaction, so
    /// a failure also undoes the ones before it; inside a block (a BEGIN among them or before
    /// them), a failure leaves the block aborted, as a failed single statement does.
    ///
    /// Only the last statement may return a large result: libpq writes the statements before it
    /// reads any result, and a server blocked writing a large result while it is still sent
    /// statements would wait for us as we wait for it.
    public func pipeline(_ statements: [PostgresStatement]) throws(PostgresError) -> [PostgresResult] {
        var results: [PostgresResult] = []
        results.reserveCapacity(statements.count)
        for outcome in try pipelineOutcomes(statements) {
            results.append(try outcome.get())
        }
        return results
    }

    /// `pipeline`, with each statement's own outcome instead of the first failure: a statement
    /// skipped after a failure has the failure `skippedInPipeline`. Throws only when nothing ran
    /// (a parameter refused) or the connection cannot be trusted any more.
    public func pipelineOutcomes(_ statements: [PostgresStatement]) throws(PostgresError) -> [Result<PostgresResult, PostgresError>] {
        guard !statements.isEmpty else { return [] }
        try settleSent()
        let handle = rawHandle
        // Every parameter is checked before anything is sent: a value refused here must not leave
        // the statements before it run (and, outside a transaction block, committed). A statement
        // prepared on this connection runs under its name; one not prepared yet is prepared just
        // before its first run, in the same round trip.
        var parameters: [PostgresParameters] = []
        parameters.reserveCapacity(statements.count)
        var toPrepare = Set<Int>()
        var preparing = Set<String>()
        for (index, statement) in statements.enumerated() {
            if let name = statement.preparedName, try !isPrepared(name, as: statement.sql), preparing.insert(name).inserted {
                toPrepare.insert(index)
            }
            parameters.append(try PostgresParameters(statement.parameters))
        }
        guard PQenterPipelineMode(handle) == 1 else {
            throw PostgresError(code: isConnected ? .server : .connectionLost,
                                message: "cannot enter pipeline mode: \(lastErrorMessage)")
        }
        // A statement libpq cannot queue (the connection broke) ends the queue; what was queued
        // before it is still read, so that the connection leaves pipeline mode in a known state.
        var queued = 0
        var preparesQueued = Set<Int>()
        var queueError: PostgresError?
        for (index, (statement, values)) in zip(statements, parameters).enumerated() {
            if toPrepare.contains(index), let name = statement.preparedName {
                guard PQsendPrepare(handle, name, statement.sql, 0, nil) == 1 else {
                    queueError = PostgresError(code: isConnected ? .server : .connectionLost, message: lastErrorMessage)
                    break
                }
                preparesQueued.insert(index)
            }
            let sent = values.withArguments { count, types, values, lengths, formats in
                if let name = statement.preparedName {
                    return PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0)
                }
                return PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 0)
            }
            guard sent == 1 else {
                queueError = PostgresError(code: isConnected ? .server : .connectionLost, message: lastErrorMessage)
                break
            }
            queued += 1
        }
        guard PQpipelineSync(handle) == 1 else {
            throw abandonPipeline("the pipeline's end could not be sent: \(lastErrorMessage)")
        }
        // One result for each statement, each followed by a null; the same for each preparation,
        // just before its statement's.
        func nextResult(_ what: String) throws(PostgresError) -> OpaquePointer {
            guard let raw = PQgetResult(handle) else {
                throw abandonPipeline("no result for \(what) of a pipeline: \(lastErrorMessage)")
            }
            while let extra = PQgetResult(handle) {
                PQclear(extra)
            }
            return raw
        }
        // The preparation's error, if any, is its statement's outcome (the server skipped the run).
        func readPreparation(of index: Int) throws(PostgresError) -> PostgresError? {
            let raw = try nextResult("the preparation of statement \(index + 1)")
            if PQresultStatus(raw) == PGRES_PIPELINE_ABORTED {
                PQclear(raw)
                return nil
            }
            do {
                _ = try check(raw)
                if let name = statements[index].preparedName { preparedStatements[name] = statements[index].sql }
                return nil
            } catch {
                return error
            }
        }
        var outcomes: [Result<PostgresResult, PostgresError>] = []
        outcomes.reserveCapacity(statements.count)
        var stale: [(name: String, error: PostgresError)] = []
        for index in 0..<queued {
            let preparationError = preparesQueued.contains(index) ? try readPreparation(of: index) : nil
            let raw = try nextResult("statement \(index + 1)")
            if PQresultStatus(raw) == PGRES_PIPELINE_ABORTED {
                PQclear(raw)
                outcomes.append(.failure(preparationError ?? Self.skippedInPipeline))
            } else {
                do {
                    outcomes.append(.success(try check(raw)))
                } catch {
                    if let name = statements[index].preparedName { stale.append((name, error)) }
                    outcomes.append(.failure(error))
                }
            }
        }
        if preparesQueued.contains(queued) {
            // Prepared, and then its run could not be queued.
            _ = try readPreparation(of: queued)
        }
        guard let sync = PQgetResult(handle) else {
            throw abandonPipeline("the pipeline's end was not acknowledged: \(lastErrorMessage)")
        }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced, PQexitPipelineMode(handle) == 1 else {
            throw abandonPipeline("the connection could not leave pipeline mode: \(lastErrorMessage)")
        }
        // Out of pipeline mode, a statement the server forgot or holds stale can be let go.
        for (name, error) in stale { forgetIfStale(name, after: error) }
        // What could not be queued (the connection broke while queuing) did not run.
        if queued < statements.count {
            outcomes.append(.failure(queueError ?? Self.skippedInPipeline))
            while outcomes.count < statements.count { outcomes.append(.failure(Self.skippedInPipeline)) }
        }
        return outcomes
    }

    /// The outcome of a statement of a pipeline that the server skipped after an earlier one failed.
    public static let skippedInPipeline = PostgresError(code: .server, message: "skipped after an earlier statement of the pipeline failed")

    /// The error for a pipeline that could not be finished: the connection's protocol state is
    /// unknown, so it is reported lost, and whoever holds it opens a new one.
    private func abandonPipeline(_ message: String) -> PostgresError {
        PostgresError(code: .connectionLost, message: message)
    }
}
