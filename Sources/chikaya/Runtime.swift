import ChikayaCore
import Foundation

/// What every command that touches the outside world needs: the configuration, loaded once,
/// a logger, and database connections whose failures become one readable line.
struct Runtime {
    let configuration: Configuration
    let logger: Logger

    /// Loads the configuration; `--config FILE` and `--log-level L` are common to all commands.
    static func load(_ arguments: inout Arguments, component: String) throws(CLIError) -> Runtime {
        let path = try arguments.option("--config")
        var configuration: Configuration
        do {
            configuration = try Configuration.load(path: path)
        } catch {
            throw .configuration("invalid configuration:\n\(error.description)")
        }
        if let level = try arguments.option("--log-level") {
            guard let parsed = LogLevel(rawValue: level) else {
                throw .usage("\(arguments.command): --log-level takes debug, info, warn or error, not '\(level)'")
            }
            configuration.logLevel = parsed
        }
        return Runtime(configuration: configuration, logger: Logger(level: configuration.logLevel, component: component))
    }

    func database(role: String) -> Database {
        Database(configuration: configuration, role: role)
    }

    func connect(role: String) throws(CLIError) -> PostgresConnection {
        do {
            return try database(role: role).connect()
        } catch {
            throw .unavailable("cannot connect to the database: \(error)")
        }
    }
}

extension Runtime {
    /// Where to serve `/metrics` and `/healthz`: `--metrics-listen`, else the configured key.
    func metricsAddress(_ arguments: inout Arguments, configured: ListenAddress?) throws(CLIError) -> ListenAddress? {
        guard let text = try arguments.option("--metrics-listen") else { return configured }
        guard let parsed = ListenAddress(text) else {
            throw .usage("\(arguments.command): --metrics-listen takes HOST:PORT (127.0.0.1:9464, [::1]:9464), not '\(text)'")
        }
        return parsed
    }

    /// Starts the endpoint when there is an address; a port already taken stops the command.
    func startMetrics(_ address: ListenAddress?, component: String, stop: StopSignal) throws(CLIError) -> HTTPResponder? {
        guard let address else { return nil }
        do {
            return try MetricsEndpoint.start(address, component: component, version: VersionCommand.version, stop: stop,
                                             logger: logger)
        } catch {
            throw .unavailable("cannot serve metrics: \(error)")
        }
    }
}

extension CLIError {
    /// A database failure in one line: SQLSTATE and the server's words, no stack trace.
    static func database(_ error: PostgresError) -> CLIError {
        if error.isConnectionProblem { return .unavailable("database unavailable: \(error)") }
        if error.code == .invalidParameter { return .dataError("refused before the database: \(error)") }
        if error.sqlState == SQLState.insufficientPrivilege {
            return .notPermitted("not permitted for this database login: \(error) (docs/security.md lists what each role may do)")
        }
        if let state = error.sqlState, state.hasPrefix("23") || state.hasPrefix("22") {
            return .dataError("the database refused the data: \(error)")
        }
        return .failure("database error: \(error)")
    }
}

/// Options shared by commands that use the configuration, for their usage texts.
let commonOptions = """
  --config FILE       configuration file (default: $CHIKAYA_CONFIG, else config/chikaya.conf)
  --log-level LEVEL   debug, info, warn or error (default: info)
"""
