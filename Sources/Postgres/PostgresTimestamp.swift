import Foundation

/// Reads and writes `timestamptz` text as the server sends it with `DateStyle=ISO`, `TimeZone=UTC`
/// (set on every connection), e.g. `2026-11-26 19:00:00.123456+00`.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        var seconds = date.timeIntervalSince1970
        var micros = Int64((seconds * 1_000_000).rounded())
        let negative = micros < 0
        if negative { micros = -micros }
        seconds = Double(micros / 1_000_000) * (negative ? -1 : 1)
        let fraction = micros % 1_000_000
        var whole = Int64(seconds)
        var frac = fraction
        if negative && fraction != 0 {
            whole -= 1
            frac = 1_000_000 - fraction
        }
        var time = time_t(whole)
        var parts = tm()
        gmtime_r(&time, &parts)
        let text = String(format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
                          Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                          Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(frac))
        return text
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM[:SS]]`; nil for anything else (infinity, BC dates).
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let b = bytes[index]
                guard b >= 48 && b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
                index += 1
            }
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == c else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              expect(32), let hour = number(2), expect(58), let minute = number(2), expect(58),
              let second = number(2) else { return nil }
        var micros = 0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offsetSeconds = 0
        if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            let sign = bytes[index] == 45 ? -1 : 1
            index += 1
            guard let oh = number(2) else { return nil }
            var om = 0, os = 0
            if expect(58) { guard let m = number(2) else { return nil }; om = m }
            if expect(58) { guard let s = number(2) else { return nil }; os = s }
            offsetSeconds = sign * (oh * 3600 + om * 60 + os)
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        let seconds = Double(Int(epoch) - offsetSeconds) + Double(micros) / 1_000_000
        return Date(timeIntervalSince1970: seconds)
    }
}
