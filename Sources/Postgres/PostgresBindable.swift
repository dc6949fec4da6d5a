import Foundation

/// A Swift value that can be sent as a query parameter, in PostgreSQL's text format.
///
/// Values always travel as parameters of `PQexecParams`, never inside the SQL text.
public protocol PostgresBindable: Sendable {
    var postgresText: String { get }
}

extension String: PostgresBindable {
    public var postgresText: String { self }
}

extension Int: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Int64: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Int32: PostgresBindable {
    public var postgresText: String { String(self) }
}

extension Bool: PostgresBindable {
    public var postgresText: String { self ? "t" : "f" }
}

extension Double: PostgresBindable {
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return String(self)
    }
}

extension Date: PostgresBindable {
    /// Seconds since the epoch; the SQL casts with `to_timestamp($n)` or `$n::timestamptz` after
    /// the text below, which PostgreSQL reads in any DateStyle.
    public var postgresText: String {
        PostgresTimestamp.format(self)
    }
}

/// A JSON document passed or read as text; the SQL casts it with `$n::jsonb`.
public struct PostgresJSON: PostgresBindable, Hashable {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var postgresText: String { text }
}
