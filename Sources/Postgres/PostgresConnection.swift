import CLibPQ
import Foundation

/// How a session reaches its server, for the start-up warning about plain text on a network.
public enum PostgresTransport: Sendable, Equatable {
    case unixSocket
    case tcp(host: String, encrypted: Bool)
}

/// One connection to PostgreSQL through libpq. Owns its `PGconn`, closed in `deinit` only.
///
/// Not `Sendable`: libpq's synchronous calls block, so a connection lives on one dedicated
/// thread (never on Swift's cooperative pool) and is used from that thread alone.
public final class PostgresConnection {
    private let handle: OpaquePointer
    var rawHandle: OpaquePointer { handle }
    /// The statements `query(prepared:)` and pipelines prepared on this connection, by name.
    var preparedStatements: [String: String] = [:]
    /// How many statements given to `send` have not had their outcome read yet.
    public internal(set) var sentAwaitingResults = 0

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        PQfinish(handle)
    }

    /// Opens a connection.
    /// - Parameters:
    ///   - url: a libpq URI or conninfo string (`DATABASE_URL`); nil or empty falls back to
    ///     libpq's own `PG*` environment variables.
    ///   - applicationName: shown in `pg_stat_activity`, so operators can tell workers apart.
    ///   - connectTimeout: seconds before giving up on an unreachable server.
    public static func connect(url: String?, applicationName: String,
                               connectTimeout: Int = 10) throws(PostgresError) -> PostgresConnection {
        // Our defaults come first: with expand_dbname, what the URL says overrides the keywords
        // before it, so an operator's connect_timeout or keepalives in DATABASE_URL win. The
        // application name and the encoding come after it: they are ours to set.
        var pairs: [(String, String)] = [
            // libpq's default (`prefer`) probes for Kerberos credentials on every connection,
            // which loads MIT Kerberos state into each thread that connects; nothing here uses
            // GSSAPI unless the operator asks for it in DATABASE_URL (which then wins).
            ("gssencmode", "disable"),
            ("connect_timeout", String(max(connectTimeout, 2))),
            // Keepalives turn a vanished server into an error instead of a hang.
            ("keepalives", "1"),
            ("keepalives_idle", "10"),
            ("keepalives_interval", "5"),
            ("keepalives_count", "3"),
        ]
        var password: String?
        if let url, !url.isEmpty {
            password = try passwordIn(url)
            pairs.append(("dbname", url))
        }
        pairs += [
            ("application_name", applicationName),
            ("client_encoding", "UTF8"),
        ]
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keyPointers: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
        var valuePointers: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        guard let raw = PQconnectdbParams(&keyPointers, &valuePointers, 1) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        let connection = PostgresConnection(handle: raw)
        guard PQstatus(raw) == CONNECTION_OK else {
            var message = connection.lastErrorMessage
            if let password, !password.isEmpty {
                message = message.replacingOccurrences(of: password, with: "***")
            }
            throw PostgresError(code: .connectionFailed, message: message)
        }
        // Timestamps are read back in one known text form whatever the server's defaults, and the
        // server's chatter (NOTICE) is not printed on our users' terminals.
        try connection.executeScript("SET DateStyle = 'ISO'; SET TimeZone = 'UTC'; SET client_min_messages = warning")
        return connection
    }

    /// The password a conninfo string or URI carries, found with libpq's own parser so that it
    /// can be masked in libpq's messages. A string libpq cannot parse is refused without quoting
    /// it: libpq's parse errors echo the offending part, which may be the password.
    private static func passwordIn(_ conninfo: String) throws(PostgresError) -> String? {
        var parseError: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &parseError) else {
            if let parseError { PQfreemem(parseError) }
            throw PostgresError(code: .connectionFailed,
                                message: "the database URL (DATABASE_URL) cannot be parsed; check its syntax (it is not shown here because it may hold a password)")
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                return String(cString: value)
            }
            option += 1
        }
        return nil
    }

    /// True while libpq considers the connection open.
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Given each notice the server sends from now on (its primary message), while it is set;
    /// libpq's own receiver (standard error) otherwise. The notices a session receives depend on
    /// its `client_min_messages` (`warning` from `connect`). For diagnostics and tests, such as
    /// reading `auto_explain`'s plans of the statements a trigger runs.
    public var noticeHandler: ((String) -> Void)? {
        didSet { installNoticeReceiver() }
    }
    /// libpq's receiver before ours (set once): its default ignores its argument.
    private var libpqNoticeReceiver: PQnoticeReceiver??

    private func installNoticeReceiver() {
        guard libpqNoticeReceiver == nil else { return }
        // The connection's address is the receiver's argument: libpq calls it only from inside
        // this connection's own calls, and never after `deinit` has finished the handle.
        let previous = PQsetNoticeReceiver(handle, { argument, result in
            guard let argument, let result else { return }
            let connection = Unmanaged<PostgresConnection>.fromOpaque(argument).takeUnretainedValue()
            guard let handler = connection.noticeHandler else {
                if let previous = connection.libpqNoticeReceiver ?? nil { previous(nil, result) }
                return
            }
            let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M")))
            handler(primary.map { String(cString: $0) } ?? "")
        }, Unmanaged.passUnretained(self).toOpaque())
        libpqNoticeReceiver = .some(previous)
    }

    /// How this session reaches the server: through a Unix socket, or TCP with or without TLS.
    public var transport: PostgresTransport {
        let host = PQhost(handle).map { String(cString: $0) } ?? ""
        if host.isEmpty || host.hasPrefix("/") || host.hasPrefix("@") { return .unixSocket }
        return .tcp(host: host, encrypted: PQsslInUse(handle) == 1)
    }

    /// The value libpq uses for one connection option (`gssencmode`, `sslmode`, ...), after our
    /// defaults and DATABASE_URL were combined; nil when the option is unknown or unset.
    public func option(_ keyword: String) -> String? {
        guard let options = PQconninfo(handle) else { return nil }
        defer { PQconninfoFree(options) }
        var option = options
        while let name = option.pointee.keyword {
            if String(cString: name) == keyword { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    /// The server's process id for this session (for logs and tests).
    public var backendPID: Int32 { PQbackendPID(handle) }

    var lastErrorMessage: String {
        guard let text = PQerrorMessage(handle) else { return "unknown libpq error" }
        // libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
        // our errors are one line.
        return String(cString: text)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: "; ")
    }

    /// Runs one statement with its values bound as parameters (`$1`, `$2`, ...).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) throws(PostgresError) -> PostgresResult {
        let handle = self.handle
        return try withParameters(parameters) { count, types, values, lengths, formats in
            PQexecParams(handle, sql, count, types, values, lengths, formats, 0)
        }
    }

    /// Runs one statement of a hot path, parsed and planned by the server once per connection
    /// (`PQprepare` the first time, then `PQexecPrepared` by `name`): a loop that runs the same
    /// statement for every batch no longer pays its parse and plan each time.
    ///
    /// `name` stands for `sql` on this connection; giving it another text is a programming error
    /// reported as `invalidParameter`. Prepared statements outlive a rolled-back transaction, and
    /// a new connection starts with none.
    @discardableResult
    public func query(prepared name: String, _ sql: String,
                      _ parameters: [(any PostgresBindable)?] = []) throws(PostgresError) -> PostgresResult {
        try settleSent()
        if try !isPrepared(name, as: sql) {
            _ = try check(PQprepare(handle, name, sql, 0, nil))
            preparedStatements[name] = sql
        }
        let handle = self.handle
        do {
            return try withParameters(parameters) { count, _, values, lengths, formats in
                PQexecPrepared(handle, name, count, values, lengths, formats, 0)
            }
        } catch {
            forgetIfStale(name, after: error)
            throw error
        }
    }

    /// True when `name` is prepared on this connection with `sql`; false when it is not prepared
    /// yet. Another text under the same name is a programming error (`invalidParameter`).
    func isPrepared(_ name: String, as sql: String) throws(PostgresError) -> Bool {
        guard let known = preparedStatements[name] else { return false }
        guard known == sql else {
            throw PostgresError(code: .invalidParameter,
                                message: "prepared statement \(name) was prepared with another text on this connection")
        }
        return true
    }

    /// After a prepared statement failed with `error`: when the server no longer holds it
    /// (DISCARD ALL) or holds it stale (a migration changed its result's columns), it is prepared
    /// anew on its next use.
    func forgetIfStale(_ name: String, after error: PostgresError) {
        guard error.sqlState == "26000" || error.sqlState == "0A000" else { return }
        preparedStatements[name] = nil
        if error.sqlState == "0A000", isConnected, !isInFailedTransaction, let quoted = try? quoteIdentifier(name) {
            _ = try? executeScript("DEALLOCATE \(quoted)")
        }
    }

    /// True inside a transaction that an error aborted (only ROLLBACK is accepted there).
    var isInFailedTransaction: Bool { PQtransactionStatus(handle) == PQTRANS_INERROR }

    /// The parameters as libpq takes them (`PostgresParameters`), alive during `send`.
    private func withParameters(_ parameters: [(any PostgresBindable)?],
                                _ send: (Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?,
                                         UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> OpaquePointer?) throws(PostgresError) -> PostgresResult {
        try settleSent()
        let values = try PostgresParameters(parameters)
        return try check(values.withArguments(send))
    }

    /// Runs one statement and returns how many rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) throws(PostgresError) -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs a script of several statements with no parameters: only for the product's own
    /// fixed SQL (migrations, session settings), never for text that holds a value.
    public func executeScript(_ sql: String) throws(PostgresError) {
        try settleSent()
        _ = try check(PQexec(handle, sql))
    }

    func check(_ raw: OpaquePointer?) throws(PostgresError) -> PostgresResult {
        guard let raw else {
            throw PostgresError(code: isConnected ? .server : .connectionLost, message: lastErrorMessage)
        }
        let result = PostgresResult(owning: raw)
        let status = PQresultStatus(raw)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
            return result
        }
        func field(_ code: UInt8) -> String? {
            guard let value = PQresultErrorField(raw, Int32(code)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(UInt8(ascii: "C"))
        let message = field(UInt8(ascii: "M")) ?? lastErrorMessage
        let lost = !isConnected
        throw PostgresError(code: lost ? .connectionLost : .server,
                            message: message,
                            sqlState: sqlState,
                            severity: field(UInt8(ascii: "V")) ?? field(UInt8(ascii: "S")),
                            detail: field(UInt8(ascii: "D")),
                            hint: field(UInt8(ascii: "H")))
    }

    /// True inside a transaction block (BEGIN issued, not yet ended), failed or not.
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// How many savepoints of `transaction` are open, to name the next one.
    private var savepointDepth = 0

    /// Runs `body` inside BEGIN/COMMIT; any error thrown rolls the transaction back and is rethrown.
    ///
    /// Called inside a transaction already open (a store's own unit of work called from a caller's
    /// transaction), `body` runs in a savepoint instead: its error rolls back only its own work,
    /// and nothing is committed until the caller's transaction commits. A second BEGIN would only
    /// warn, and the inner COMMIT would commit the caller's work half-way.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        if isInTransaction { return try savepoint(body) }
        try executeScript("BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            // The rollback may fail too (the connection is gone); the first error is the one to report.
            if isConnected { _ = try? executeScript("ROLLBACK") }
            throw error
        }
        do {
            try executeScript("COMMIT")
        } catch {
            if isConnected { _ = try? executeScript("ROLLBACK") }
            throw error
        }
        return value
    }

    private func savepoint<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "chikaya_savepoint_\(savepointDepth)"
        try executeScript("SAVEPOINT \(name)")
        do {
            let value = try body(self)
            try executeScript("RELEASE SAVEPOINT \(name)")
            return value
        } catch {
            if isConnected { _ = try? executeScript("ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)") }
            throw error
        }
    }

    /// Quotes a name for use as an SQL identifier (channel names of LISTEN), through libpq.
    public func quoteIdentifier(_ name: String) throws(PostgresError) -> String {
        guard let quoted = PQescapeIdentifier(handle, name, name.utf8.count) else {
            throw PostgresError(code: .server, message: lastErrorMessage)
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }
}
