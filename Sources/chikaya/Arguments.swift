/// The words after a command's name, consumed as options, flags and positionals.
///
/// Deliberately small: `--name value`, `--name=value`, boolean `--flag`, positionals in order.
/// Every word must be consumed; `finish()` reports the first one that was not, so an unknown
/// option is an error (exit 64), never silently ignored.
struct Arguments {
    private var words: [String]
    private var consumed: [Bool]
    let command: String

    init(command: String, words: [String]) {
        self.command = command
        self.words = words
        self.consumed = Array(repeating: false, count: words.count)
    }

    /// True when `--help` or `-h` was given; the command then prints its usage and exits 0.
    mutating func wantsHelp() -> Bool {
        flag("--help") || flag("-h")
    }

    /// A boolean flag such as `--drain`.
    mutating func flag(_ name: String) -> Bool {
        var found = false
        for i in words.indices where !consumed[i] && words[i] == name {
            consumed[i] = true
            found = true
        }
        return found
    }

    /// The value of `--name value` or `--name=value`; the last one wins.
    mutating func option(_ name: String) throws(CLIError) -> String? {
        var value: String?
        var i = 0
        while i < words.count {
            defer { i += 1 }
            guard !consumed[i] else { continue }
            if words[i] == name {
                guard i + 1 < words.count, !consumed[i + 1] else {
                    throw .usage("\(command): option \(name) needs a value")
                }
                consumed[i] = true
                consumed[i + 1] = true
                value = words[i + 1]
                i += 1
            } else if words[i].hasPrefix(name + "=") {
                consumed[i] = true
                value = String(words[i].dropFirst(name.count + 1))
            }
        }
        return value
    }

    /// An integer option with bounds; a value that does not parse is a usage error.
    mutating func intOption(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(CLIError) -> Int {
        guard let text = try option(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw .usage("\(command): \(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return value
    }

    /// The next positional word (not starting with `--`), or nil when none is left.
    mutating func positional() -> String? {
        for i in words.indices where !consumed[i] {
            if words[i].hasPrefix("-") && words[i] != "-" { continue }
            consumed[i] = true
            return words[i]
        }
        return nil
    }

    /// A positional that must be there.
    mutating func requiredPositional(_ what: String) throws(CLIError) -> String {
        guard let value = positional() else {
            throw .usage("\(command): missing \(what)")
        }
        return value
    }

    /// Fails when an option that no longer exists was given, saying why, instead of the generic
    /// "unknown option" (`--actor`: the database records the login, nobody may name another).
    mutating func refuse(_ name: String, because reason: String) throws(CLIError) {
        if words.indices.contains(where: { !consumed[$0] && (words[$0] == name || words[$0].hasPrefix(name + "=")) }) {
            throw .usage("\(command): \(name) is not accepted: \(reason)")
        }
    }

    /// The refusal of `--actor` and `--author`, in one place for every command that had them.
    mutating func refuseActor() throws(CLIError) {
        let reason = "the database records who acts from the login you connect as (session_user); connect as your own login"
        try refuse("--actor", because: reason)
        try refuse("--author", because: reason)
    }

    /// Fails on the first word no option, flag or positional took.
    func finish() throws(CLIError) {
        if let i = words.indices.first(where: { !consumed[$0] }) {
            let word = words[i]
            if word.hasPrefix("-") {
                throw .usage("\(command): unknown option '\(word)'")
            }
            throw .usage("\(command): unexpected argument '\(word)'")
        }
    }
}
