// Fuzz target: the routing rules parser. Built by scripts/fuzz with Sources/Routing.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRulesParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let rules = try RuleSet.parse(source: text, fileName: "fuzz.conf")
        precondition(!rules.version.isEmpty, "a parsed rule set has a version")
        // Warnings may be about the whole file (line 0: "no rules at all"); errors name a line.
        for warning in rules.warnings { precondition(warning.line >= 0 && warning.isWarning) }
    } catch {
        precondition(!error.diagnostics.isEmpty, "an error says what is wrong")
        for diagnostic in error.diagnostics {
            precondition(diagnostic.line >= 1, "diagnostic without a line number: \(diagnostic)")
            precondition(diagnostic.file == "fuzz.conf")
        }
    }
    return 0
}
