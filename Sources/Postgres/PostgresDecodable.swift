import Foundation

/// A Swift type a result column can be read as. Values arrive in PostgreSQL's text format;
/// `acceptedTypes` lists the column type OIDs that may be read as this type, so that a
/// mismatch is reported with both types named instead of a silently wrong value.
public protocol PostgresDecodable: Sendable {
    static var swiftName: String { get }
    /// nil means any column type (every type has a text form).
    static var acceptedTypes: Set<UInt32>? { get }
    static func decode(text: String) -> Self?
    /// Called for SQL NULL; only optionals accept it.
    static func decodeNull() -> Self?
}

extension PostgresDecodable {
    public static func decodeNull() -> Self? { nil }
}

/// OIDs of the built-in types this layer reads.
enum PostgresTypeOID {
    static let bool: UInt32 = 16
    static let int8: UInt32 = 20
    static let int2: UInt32 = 21
    static let int4: UInt32 = 23
    static let text: UInt32 = 25
    static let oid: UInt32 = 26
    static let json: UInt32 = 114
    static let float4: UInt32 = 700
    static let float8: UInt32 = 701
    static let bpchar: UInt32 = 1042
    static let varchar: UInt32 = 1043
    static let timestamp: UInt32 = 1114
    static let timestamptz: UInt32 = 1184
    static let numeric: UInt32 = 1700
    static let jsonb: UInt32 = 3802

    static let integers: Set<UInt32> = [int2, int4, int8, oid]

    // The parameter is not named `oid`: a `case oid:` would then match the parameter itself
    // (every type after `text` was named "oid").
    static func name(_ type: UInt32) -> String {
        switch type {
        case bool: "boolean"
        case int8: "bigint"
        case int2: "smallint"
        case int4: "integer"
        case text: "text"
        case oid: "oid"
        case json: "json"
        case float4: "real"
        case float8: "double precision"
        case bpchar: "character"
        case varchar: "character varying"
        case timestamp: "timestamp"
        case timestamptz: "timestamptz"
        case numeric: "numeric"
        case jsonb: "jsonb"
        default: "type oid \(type)"
        }
    }
}

extension String: PostgresDecodable {
    public static var swiftName: String { "String" }
    public static var acceptedTypes: Set<UInt32>? { nil }
    public static func decode(text: String) -> String? { text }
}

extension Int64: PostgresDecodable {
    public static var swiftName: String { "Int64" }
    public static var acceptedTypes: Set<UInt32>? { PostgresTypeOID.integers }
    public static func decode(text: String) -> Int64? { Int64(text) }
}

extension Int: PostgresDecodable {
    public static var swiftName: String { "Int" }
    public static var acceptedTypes: Set<UInt32>? { PostgresTypeOID.integers }
    public static func decode(text: String) -> Int? { Int(text) }
}

extension Int32: PostgresDecodable {
    public static var swiftName: String { "Int32" }
    public static var acceptedTypes: Set<UInt32>? { PostgresTypeOID.integers }
    public static func decode(text: String) -> Int32? { Int32(text) }
}

extension Bool: PostgresDecodable {
    public static var swiftName: String { "Bool" }
    public static var acceptedTypes: Set<UInt32>? { [PostgresTypeOID.bool] }
    public static func decode(text: String) -> Bool? {
        switch text {
        case "t": true
        case "f": false
        default: nil
        }
    }
}

extension Double: PostgresDecodable {
    public static var swiftName: String { "Double" }
    public static var acceptedTypes: Set<UInt32>? {
        PostgresTypeOID.integers.union([PostgresTypeOID.float4, PostgresTypeOID.float8, PostgresTypeOID.numeric])
    }
    public static func decode(text: String) -> Double? { Double(text) }
}

extension Date: PostgresDecodable {
    public static var swiftName: String { "Date" }
    public static var acceptedTypes: Set<UInt32>? { [PostgresTypeOID.timestamptz, PostgresTypeOID.timestamp] }
    public static func decode(text: String) -> Date? { PostgresTimestamp.parse(text) }
}

extension PostgresJSON: PostgresDecodable {
    public static var swiftName: String { "PostgresJSON" }
    public static var acceptedTypes: Set<UInt32>? { [PostgresTypeOID.json, PostgresTypeOID.jsonb, PostgresTypeOID.text] }
    public static func decode(text: String) -> PostgresJSON? { PostgresJSON(text) }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static var swiftName: String { "Optional<\(Wrapped.swiftName)>" }
    public static var acceptedTypes: Set<UInt32>? { Wrapped.acceptedTypes }
    public static func decode(text: String) -> Wrapped?? {
        guard let value = Wrapped.decode(text: text) else { return nil }
        return .some(value)
    }
    public static func decodeNull() -> Wrapped?? { .some(nil) }
}
