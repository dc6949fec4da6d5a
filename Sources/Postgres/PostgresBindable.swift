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

/// A one-dimensional array parameter in PostgreSQL's text form (`{...}`), built element by
/// element; the SQL casts it with `$n::text[]`, `$n::bigint[]`, `$n::json[]`...
///
/// Every element but NULL is written quoted, with `"` and `\` escaped, which `array_in` reads
/// back as the same text whatever it holds (commas, braces, spaces, the word NULL).
public struct PostgresArray: PostgresBindable {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var count = 0

    public init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity + 2)
    }

    /// An array of integers (ids), each written as its digits.
    public init(_ integers: [Int64]) {
        bytes.reserveCapacity(integers.count * 8 + 2)
        for value in integers {
            if count > 0 { bytes.append(UInt8(ascii: ",")) }
            count += 1
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    /// Appends one element: its text, or NULL.
    public mutating func append(_ element: String?) {
        if count > 0 { bytes.append(UInt8(ascii: ",")) }
        count += 1
        guard let element else {
            bytes.append(contentsOf: "NULL".utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in element.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public var postgresText: String {
        var closed = bytes
        closed.append(UInt8(ascii: "}"))
        return String(decoding: closed, as: UTF8.self)
    }
}
