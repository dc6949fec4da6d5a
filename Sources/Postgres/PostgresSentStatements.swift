import CLibPQ
import Glibc

extension PostgresConnection {
    /// Sends `statement` and returns without waiting for the server: each one runs in a
    /// transaction of its own, in the order sent, and its outcome is read later by
    /// `collectSent(waiting:)`. For statements whose outcome nobody waits on (a wake-up sent to
    /// another process), so that the caller is not held while the server waits on a lock.
    ///
    /// The connection stays in libpq's pipeline mode while outcomes are outstanding; any other
    /// use of it (`query`, `pipeline`, `executeScript`, `waitForNotifications`) first waits for
    /// them and drops them. Throws when the statement could not be sent (nothing was sent).
    public func send(_ statement: PostgresStatement) throws(PostgresError) {
        let handle = rawHandle
        let values = try PostgresParameters(statement.parameters)
        if sentAwaitingResults == 0 {
            guard PQenterPipelineMode(handle) == 1 else {
                throw PostgresError(code: isConnected ? .server : .connectionLost,
                                    message: "cannot enter pipeline mode: \(lastErrorMessage)")
            }
        }
        let sent = values.withArguments { count, types, values, lengths, formats in
            PQsendQueryParams(handle, statement.sql, count, types, values, lengths, formats, 0)
        }
        // The Sync ends the statement's transaction and makes libpq write it out now.
        guard sent == 1, PQpipelineSync(handle) == 1 else {
            let error = PostgresError(code: .connectionLost, message: "a statement could not be sent: \(lastErrorMessage)")
            if sentAwaitingResults == 0 { _ = PQexitPipelineMode(handle) }
            throw error
        }
        sentAwaitingResults += 1
    }

    /// The outcomes of statements given to `send` that have come back, oldest first: with
    /// `waiting`, of every one outstanding (blocking until they are all back); without, only of
    /// those already received, never blocking. Throws when the connection broke (the outcomes
    /// not read are lost with it).
    public func collectSent(waiting: Bool) throws(PostgresError) -> [Result<PostgresResult, PostgresError>] {
        guard sentAwaitingResults > 0 else { return [] }
        let handle = rawHandle
        if !waiting {
            guard PQconsumeInput(handle) == 1 else {
                throw lostWhileSent("the connection broke while statements sent earlier were outstanding")
            }
        }
        var outcomes: [Result<PostgresResult, PostgresError>] = []
        // Each statement sent gives its result, a null, then the Sync's result.
        while sentAwaitingResults > 0 {
            if !waiting && PQisBusy(handle) == 1 { break }
            guard let raw = PQgetResult(handle) else {
                if !isConnected { throw lostWhileSent("the connection broke while statements sent earlier were outstanding") }
                continue
            }
            switch PQresultStatus(raw) {
            case PGRES_PIPELINE_SYNC:
                PQclear(raw)
                sentAwaitingResults -= 1
            case PGRES_PIPELINE_ABORTED:
                PQclear(raw)
                outcomes.append(.failure(Self.skippedInPipeline))
            default:
                do {
                    outcomes.append(.success(try check(raw)))
                } catch {
                    outcomes.append(.failure(error))
                }
            }
        }
        if sentAwaitingResults == 0 {
            guard PQexitPipelineMode(handle) == 1 else {
                throw lostWhileSent("the connection could not leave pipeline mode: \(lastErrorMessage)")
            }
        }
        return outcomes
    }

    /// Waits for the outcomes of statements sent earlier and drops them, so that the connection
    /// can be used for something else.
    func settleSent() throws(PostgresError) {
        if sentAwaitingResults > 0 { _ = try collectSent(waiting: true) }
    }

    private func lostWhileSent(_ message: String) -> PostgresError {
        sentAwaitingResults = 0
        return PostgresError(code: .connectionLost, message: message)
    }
}
