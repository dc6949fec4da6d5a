import Foundation
import Testing
@testable import Postgres

/// The text-format parsers and type checks behind `PostgresRow.decode`, without a server.
@Suite struct DecodingUnitTests {
    @Test func integersParseTheirRangeAndRefuseOverflow() {
        #expect(Int64.decode(text: "9223372036854775807") == .max)
        #expect(Int64.decode(text: "-9223372036854775808") == .min)
        #expect(Int32.decode(text: "2147483648") == nil)
        #expect(Int32.decode(text: "-2147483648") == .min)
        #expect(Int.decode(text: "42") == 42)
        #expect(Int.decode(text: "4.2") == nil)
    }

    @Test func booleansAreOnlyTheServersTOrF() {
        #expect(Bool.decode(text: "t") == true)
        #expect(Bool.decode(text: "f") == false)
        #expect(Bool.decode(text: "true") == nil)
    }

    @Test func doublesReadSpecialValues() {
        #expect(Double.decode(text: "1.5") == 1.5)
        #expect(Double.decode(text: "-Infinity") == -.infinity)
        #expect(Double.decode(text: "NaN")?.isNaN == true)
    }

    @Test func optionalsAcceptNullAndWrapValues() throws {
        // decodeNull of a non-optional is nil: the row decoder turns that into an error.
        #expect(Int64.decodeNull() == nil)
        let null = try #require(Optional<Int64>.decodeNull())
        #expect(null == nil)
        #expect(Optional<Int64>.decode(text: "7") == .some(.some(7)))
        #expect(Optional<Int64>.decode(text: "x") == nil)
        #expect(Optional<Int64>.swiftName == "Optional<Int64>")
    }

    @Test func acceptedTypesKeepTextOutOfNumbers() throws {
        let integers = try #require(Int64.acceptedTypes)
        #expect(integers.contains(PostgresTypeOID.int8) && integers.contains(PostgresTypeOID.int4))
        #expect(!integers.contains(PostgresTypeOID.text))
        #expect(Bool.acceptedTypes == [PostgresTypeOID.bool])
        #expect(try #require(Date.acceptedTypes).contains(PostgresTypeOID.timestamptz))
        // Any column has a text form, so String reads everything.
        #expect(String.acceptedTypes == nil)
        #expect(Optional<Int32>.acceptedTypes == Int32.acceptedTypes)
    }

    @Test func typeNamesAreSQLNames() {
        #expect(PostgresTypeOID.name(PostgresTypeOID.int8) == "bigint")
        #expect(PostgresTypeOID.name(PostgresTypeOID.timestamptz) == "timestamptz")
        #expect(PostgresTypeOID.name(99_999) == "type oid 99999")
    }

    @Test func bindableTextIsWhatPostgreSQLReads() {
        #expect(true.postgresText == "t")
        #expect(false.postgresText == "f")
        #expect(Double.nan.postgresText == "NaN")
        #expect((-Double.infinity).postgresText == "-Infinity")
        #expect(Int64.min.postgresText == "-9223372036854775808")
        #expect(PostgresJSON(#"{"a":1}"#).postgresText == #"{"a":1}"#)
    }
}
