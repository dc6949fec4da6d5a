import Foundation
import Testing
@testable import Postgres

/// The text form of `timestamptz` is parsed by hand (no DateFormatter), so its edge cases are
/// pinned here without a server: fractions, offsets, dates before 1970 and what must be refused.
@Suite struct PostgresTimestampUnitTests {
    /// Dates are Doubles: a microsecond is the resolution PostgreSQL keeps, so equality is to it.
    func expectSameMicrosecond(_ a: Date?, _ b: Date, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let a else {
            Issue.record("no date", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(a.timeIntervalSince1970 - b.timeIntervalSince1970) < 0.000_001, sourceLocation: sourceLocation)
    }

    @Test func formatsWholeSecondsInUTCWithSixDigitFraction() {
        // 2026-11-26 19:00:00 UTC
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 1_795_719_600)) == "2026-11-26 19:00:00.000000+00")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00.000000+00")
    }

    @Test func formatsMicrosecondsRounded() {
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 1_795_719_600.123456)) == "2026-11-26 19:00:00.123456+00")
        // Half a microsecond and more rounds up instead of being cut, so format∘parse is stable.
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 0.9999996)) == "1970-01-01 00:00:01.000000+00")
    }

    @Test func formatsDatesBeforeTheEpochWithAPositiveFraction() {
        // -1.25 s is 23:59:58.75 of the previous day: the fraction must not be written negative.
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: -1.25)) == "1969-12-31 23:59:58.750000+00")
    }

    @Test(arguments: [0, 1, -1.25, 1_795_719_600.123456, 1_795_719_600.000001, 951_782_400.5, -2_208_988_800.654321])
    func formatThenParseRoundTrips(_ seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        expectSameMicrosecond(PostgresTimestamp.parse(PostgresTimestamp.format(date)), date)
    }

    @Test func parsesWhatTheServerSendsWithAndWithoutFraction() {
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 19:00:00+00"), Date(timeIntervalSince1970: 1_795_719_600))
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 19:00:00.5+00"), Date(timeIntervalSince1970: 1_795_719_600.5))
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 19:00:00.000042+00"), Date(timeIntervalSince1970: 1_795_719_600.000042))
        // `timestamp` without time zone has no offset; it is read as UTC (the session's zone).
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 19:00:00"), Date(timeIntervalSince1970: 1_795_719_600))
    }

    @Test func moreThanSixFractionDigitsAreTruncatedNotMisread() {
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 19:00:00.1234567+00"), Date(timeIntervalSince1970: 1_795_719_600.123456))
    }

    @Test func appliesOffsetsOfHoursMinutesAndSeconds() {
        let utc = Date(timeIntervalSince1970: 1_795_719_600) // 19:00 UTC
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 20:00:00+01"), utc)
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-27 00:30:00+05:30"), utc)
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 15:30:00-03:30"), utc)
        // Historical zones (LMT) have second offsets: 19:00 UTC is 18:29:50 at -00:30:10.
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 18:29:50-00:30:10"), utc)
        expectSameMicrosecond(PostgresTimestamp.parse("2026-11-26 20:00:00.25+01"), Date(timeIntervalSince1970: 1_795_719_600.25))
    }

    @Test(arguments: ["infinity", "-infinity", "2026-11-26", "2026-11-26 19:00", "2026-11-26T19:00:00Z",
                      "2026-11-26 19:00:00+00 extra", "0044-03-15 12:00:00+00 BC", "2026-11-26 19:00:00+1", ""])
    func refusesTextItCannotRead(_ text: String) {
        #expect(PostgresTimestamp.parse(text) == nil)
    }
}
