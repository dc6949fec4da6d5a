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
        for value in integers { append(value) }
    }

    /// Appends one element: its text, or NULL.
    public mutating func append(_ element: String?) {
        startElement()
        guard var element else {
            bytes.append(contentsOf: "NULL".utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        element.withUTF8 { text in
            // Most elements (JSON of keywords, department codes) hold neither: one copy.
            guard text.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                bytes.append(contentsOf: text)
                return
            }
            for byte in text {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends an integer element, as its digits.
    public mutating func append(_ value: Int64) {
        startElement()
        Self.appendDigits(of: value, to: &bytes)
    }

    /// Appends an element that is itself an integer array's text (`{1,-2,3}`), quoted, for a
    /// `text[]` parameter whose elements the SQL casts one by one (rows of different lengths).
    public mutating func append(integerList values: [Int32]) {
        startElement()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: "{"))
        for (k, value) in values.enumerated() {
            if k > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendDigits(of: Int64(value), to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\""))
    }

    /// The separator before every element but the first.
    private mutating func startElement() {
        if count > 0 { bytes.append(UInt8(ascii: ",")) }
        count += 1
    }

    /// The decimal digits of `value`, written without a String in between (a batch of
    /// decisions has thousands of them).
    private static func appendDigits(of value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var at = 20
            repeat {
                at -= 1
                digits[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[at...]))
        }
    }

    public var postgresText: String {
        var closed = bytes
        closed.append(UInt8(ascii: "}"))
        return String(decoding: closed, as: UTF8.self)
    }
}

/// A `json[]` parameter sent in binary (`PostgresBinaryBindable`): each document travels as its
/// bytes after its length. In the text form every quote of a JSON document is escaped here and
/// unescaped by the server byte by byte (`array_in`): for a routing batch's matches, that was a
/// twentieth of the server's and the worker's CPU. The server still checks each one as JSON.
public struct PostgresJSONArray: PostgresBinaryBindable {
    private var elements: [UInt8] = []
    private var count: Int32 = 0
    private var hasNull = false

    public init(capacity: Int = 0) {
        elements.reserveCapacity(capacity)
    }

    /// Appends one document (as written, not re-encoded), or NULL.
    public mutating func append(_ document: String?) {
        count += 1
        guard var document else {
            hasNull = true
            Self.appendInt32(-1, to: &elements)
            return
        }
        document.withUTF8 { bytes in
            Self.appendInt32(Int32(bytes.count), to: &elements)
            elements.append(contentsOf: bytes)
        }
    }

    /// json[]: PostgreSQL's built-in OID for it (`pg_type.oid` of `_json`), fixed since 9.2.
    public var postgresTypeOID: UInt32 { 199 }

    /// `array_recv`'s layout: dimensions, a null flag, the element type (json, 114), the one
    /// dimension's length and lower bound, then each element's length (-1 for NULL) and bytes.
    public var postgresBinary: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(20 + elements.count)
        Self.appendInt32(count == 0 ? 0 : 1, to: &out)
        Self.appendInt32(hasNull ? 1 : 0, to: &out)
        Self.appendInt32(114, to: &out)
        if count > 0 {
            Self.appendInt32(count, to: &out)
            Self.appendInt32(1, to: &out)
        }
        out.append(contentsOf: elements)
        return out
    }

    /// The same array in the text form, for a reader that asks for it.
    public var postgresText: String {
        var text = PostgresArray()
        var at = 0
        for _ in 0..<count {
            let length = elements[at..<at + 4].reduce(0) { $0 << 8 | Int32($1) }
            at += 4
            if length < 0 {
                text.append(nil)
            } else {
                text.append(String(decoding: elements[at..<at + Int(length)], as: UTF8.self))
                at += Int(length)
            }
        }
        return text.postgresText
    }

    /// Network byte order, as every integer of PostgreSQL's binary formats.
    private static func appendInt32(_ value: Int32, to out: inout [UInt8]) {
        let bits = UInt32(bitPattern: value)
        out.append(contentsOf: [UInt8(truncatingIfNeeded: bits >> 24), UInt8(truncatingIfNeeded: bits >> 16),
                                UInt8(truncatingIfNeeded: bits >> 8), UInt8(truncatingIfNeeded: bits)])
    }
}
