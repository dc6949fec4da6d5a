import Foundation

extension Duration {
    /// "42s", "3m05s", "2h10m", "4d03h": ages for people, in command output and health details.
    public static func human(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3_600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        if s < 86_400 { return String(format: "%dh%02dm", s / 3_600, (s % 3_600) / 60) }
        return String(format: "%dd%02dh", s / 86_400, (s % 86_400) / 3_600)
    }
}
