/// Durations on the command line: `90s`, `30m`, `12h`, `3d`, `2w`; a bare number is days,
/// since that is what staff ask about (commands about seconds pass `bareUnit: 1`).
enum DurationArgument {
    /// Seconds, or a usage error naming the option.
    static func seconds(_ text: String, option: String, command: String, bareUnit: Double = 86_400) throws(CLIError) -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        var number = Substring(text)
        var unit = bareUnit
        if let last = text.last, let factor = units[last] {
            unit = factor
            number = text.dropLast()
        }
        guard let value = Double(number), value >= 0, value.isFinite else {
            throw .usage("\(command): \(option) takes a duration such as 90s, 30m, 12h, 3d or 2w, not '\(text)'")
        }
        return value * unit
    }
}
