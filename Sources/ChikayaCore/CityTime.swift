import Foundation

/// The city's clock for people: dates in emails and command output are Casablanca's local time,
/// whatever the server's time zone. (The SQL that cuts days, the digest's and the reference's
/// year, names the same zone.)
public enum CityTime {
    public static let timeZone = TimeZone(identifier: "Africa/Casablanca") ?? .gmt

    /// "2026-03-14 09:05": the minute, in Casablanca.
    public static func minute(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
