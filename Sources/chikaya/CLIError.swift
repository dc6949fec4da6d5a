/// A failure the command line reports in one line, with the exit code of sysexits(3).
enum CLIError: Error {
    /// Bad command line: unknown command or option, missing value (exit 64).
    case usage(String)
    /// Bad input data: a malformed rules file or TSV (exit 65).
    case dataError(String)
    /// A needed file is missing or unreadable (exit 66).
    case noInput(String)
    /// A service (database, SMTP) failed or refused (exit 69).
    case unavailable(String)
    /// The database login may not do this (SQLSTATE 42501; exit 77, EX_NOPERM).
    case notPermitted(String)
    /// Configuration is invalid (exit 78).
    case configuration(String)
    /// Anything else that stops the command (exit 1).
    case failure(String)

    var exitCode: Int32 {
        switch self {
        case .usage: 64
        case .dataError: 65
        case .noInput: 66
        case .unavailable: 69
        case .notPermitted: 77
        case .configuration: 78
        case .failure: 1
        }
    }

    var message: String {
        switch self {
        case .usage(let m), .dataError(let m), .noInput(let m), .unavailable(let m),
             .notPermitted(let m), .configuration(let m), .failure(let m):
            m
        }
    }
}
