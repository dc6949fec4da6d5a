/// A failure of the database layer, with the server's fields kept apart.
///
/// `description` is safe to log: it carries the SQLSTATE, the server's message and hint, but never
/// the values bound to a query (those may hold a citizen's text or address). The server's
/// `detail` is left out of it because it quotes values ("Key (email)=(...)", "Failing row
/// contains (...)"); it stays in `detail` for code that chooses to show it.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; stable for callers to switch on.
    public enum Code: String, Sendable {
        /// Could not open the connection (bad conninfo, server down, authentication).
        case connectionFailed
        /// The connection broke (server restart, network): the caller should reconnect.
        case connectionLost
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// A column could not be decoded as the requested Swift type.
        case decoding
        /// A result had an unexpected shape (no row where one was required, ...).
        case unexpectedResult
        /// A wait ran out of time.
        case timeout
        /// A parameter PostgreSQL cannot take as it is (text holding a NUL byte): refused before
        /// sending, never cut short.
        case invalidParameter
    }

    public let code: Code
    public let message: String
    /// Five-character SQLSTATE from the server, e.g. `23505` for a unique violation.
    public let sqlState: String?
    public let severity: String?
    public let detail: String?
    public let hint: String?

    public init(code: Code, message: String, sqlState: String? = nil, severity: String? = nil,
                detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.severity = severity
        self.detail = detail
        self.hint = hint
    }

    /// True for errors after which the connection cannot be trusted and must be replaced.
    public var isConnectionProblem: Bool {
        switch code {
        case .connectionFailed, .connectionLost: return true
        case .server:
            // Class 08 is connection exception; 57P01-57P03 are admin shutdown / crash / cannot connect now.
            guard let state = sqlState else { return false }
            return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
        default: return false
        }
    }

    /// True for failures caused by other sessions' locks (lock timeout, deadlock, serialization
    /// conflict): the same work is likely to succeed when tried again later.
    public var isContention: Bool {
        guard code == .server, let state = sqlState else { return false }
        return state == SQLState.lockNotAvailable || state == SQLState.deadlockDetected
            || state == SQLState.serializationFailure
    }

    public var description: String {
        var text = ""
        if let sqlState { text += "SQLSTATE \(sqlState): " }
        text += message
        if let hint, !hint.isEmpty { text += " (hint: \(hint))" }
        return text
    }
}

/// SQLSTATE codes the product reacts to by name.
public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let checkViolation = "23514"
    public static let notNullViolation = "23502"
    public static let raiseException = "P0001"
    public static let lockNotAvailable = "55P03"
    public static let deadlockDetected = "40P01"
    public static let serializationFailure = "40001"
    /// 42501: the role lacks a privilege, or a row-level security policy refused the row.
    public static let insufficientPrivilege = "42501"
}
