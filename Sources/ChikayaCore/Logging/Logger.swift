import Foundation
import Synchronization

/// Severity of a log line; lines below the configured level are dropped.
public enum LogLevel: String, Sendable, Comparable, CaseIterable {
    case debug, info, warn, error

    private var rank: Int {
        switch self {
        case .debug: 0
        case .info: 1
        case .warn: 2
        case .error: 3
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}

/// Writes logfmt lines (`time=… level=… event=… key=value`) to stderr.
///
/// Callers decide what goes in the fields; by convention complaint bodies and citizens' names or
/// addresses are only ever logged at debug level, never at info or above.
public struct Logger: Sendable {
    public let level: LogLevel
    public let component: String

    private static let lock = Mutex(())

    public init(level: LogLevel, component: String) {
        self.level = level
        self.component = component
    }

    public func enabled(_ candidate: LogLevel) -> Bool { candidate >= level }

    public func log(_ candidate: LogLevel, _ event: String, _ fields: [(String, any CustomStringConvertible)] = []) {
        guard enabled(candidate) else { return }
        var line = "time=\(Self.timestamp()) level=\(candidate.rawValue) component=\(component) event=\(Self.quote(event))"
        for (key, value) in fields {
            line += " \(key)=\(Self.quote(value.description))"
        }
        line += "\n"
        Self.lock.withLock { _ in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    public func debug(_ event: String, _ fields: [(String, any CustomStringConvertible)] = []) { log(.debug, event, fields) }
    public func info(_ event: String, _ fields: [(String, any CustomStringConvertible)] = []) { log(.info, event, fields) }
    public func warn(_ event: String, _ fields: [(String, any CustomStringConvertible)] = []) { log(.warn, event, fields) }
    public func error(_ event: String, _ fields: [(String, any CustomStringConvertible)] = []) { log(.error, event, fields) }

    /// logfmt quoting: bare when safe, else double-quoted with escapes; newlines never break a line.
    static func quote(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\n" || $0 == "\\" || $0 == "\r" || $0 == "\t" }
        guard needsQuotes else { return value }
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return "\"\(escaped)\""
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1_000_000))
    }
}
