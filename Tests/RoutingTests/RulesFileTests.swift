import Testing
@testable import Routing

/// Every rules-file error names its line and column; all errors come in one run.
struct RulesFileTests {
    private func errors(_ source: String) -> [RulesDiagnostic] {
        do {
            _ = try RuleSet.parse(source: source, fileName: "r.conf")
            return []
        } catch {
            return error.diagnostics.filter { !$0.isWarning }
        }
    }

    @Test(arguments: [
        ("[voirie]\n2: trou\n[voiries]\n", 3, 2, "unknown department code 'voiries'"),
        ("[voirie]\nabc: trou\n", 2, 1, "malformed weight 'abc'"),
        ("[voirie]\n-1: trou\n", 2, 1, "malformed weight '-1'"),
        ("[voirie]\n2: trou | ؟!! \n", 2, 11, "normalises to nothing"),
        ("[voirie]\n2: trou ||\n", 2, 10, "empty keyword"),
        ("2: trou\n", 1, 1, "before any [department]"),
        ("[voirie\n", 1, 8, "missing ']'"),
        ("[voirie]\n2 @nowhere: trou\n", 2, 4, "unknown arrondissement code 'nowhere'"),
        ("threshold = high\n[voirie]\n2: trou\n", 1, 13, "malformed threshold 'high'"),
        ("colour = red\n", 1, 1, "unknown setting 'colour'"),
        ("[voirie]\n2: tr*\n", 2, 4, "too short"),
        ("[voirie]\n2: ~dow\n", 2, 4, "fewer than two consonants"),
        ("[voirie]\n2: ~lma*\n", 2, 4, "a '~' prefix needs three"),
        ("[voirie]\njust words\n", 2, 1, "cannot read this line"),
        ("ties = coin\n[voirie]\n2: trou\n", 1, 8, "unknown ties rule 'coin'"),
        ("[voirie]\n2: trou\n[landmarks]\n2: pres de\n", 4, 1, "malformed landmark factor '2'"),
        ("[voirie]\n2: trou\n[landmarks]\nexclude: pres de\n", 4, 1, "no meaning in [landmarks]"),
    ])
    func eachErrorHasItsPlace(source: String, line: Int, column: Int, message: String) throws {
        let found = errors(source)
        let first = try #require(found.first)
        #expect(first.line == line)
        #expect(first.column == column)
        #expect(first.message.contains(message))
        #expect(first.description.hasPrefix("r.conf:\(line):\(column): error: "))
    }

    @Test func allErrorsOfTheFileAreReported() {
        let found = errors("[nope]\nx: a\n[voirie]\n2 @mars: trou\nbad line\n")
        // Line 2's weight is wrong too; its unknown section is not reported twice.
        #expect(found.map(\.line) == [1, 2, 4, 5])
    }

    @Test func sameKeywordInTwoDepartmentsIsAWarningNamingBothLines() throws {
        let set = try rules("[voirie]\n2: trottoirs\n[circulation]\n2: Trottoir\n")
        let warning = try #require(set.warnings.first { $0.line == 4 })
        #expect(warning.isWarning)
        #expect(warning.message.contains("[voirie] at line 2"))
    }

    @Test func versionIgnoresWhitespaceCommentsAndOrder() throws {
        let a = try rules("threshold = 2\n[voirie]\n2: trou | chaussée\n")
        let b = try rules("# comment\nthreshold=2\n\n[voirie]\n2:   chaussee|trou   # holes\n")
        let c = try rules("threshold = 2\n[voirie]\n3: trou | chaussée\n")
        #expect(a.version == b.version)
        #expect(a.version != c.version)
        #expect(a.version.count == 32)
    }

    @Test func theTiesSettingChangesTheVersionOnlyWhenNotTheDefault() throws {
        let plain = try rules("threshold = 2\n[voirie]\n2: trou\n")
        let triage = try rules("threshold = 2\nties = triage\n[voirie]\n2: trou\n")
        let first = try rules("threshold = 2\nties = first\n[voirie]\n2: trou\n")
        #expect(plain.ties == .triage)
        #expect(first.ties == .first)
        #expect(plain.version == triage.version)
        #expect(plain.version != first.version)
    }

    @Test func landmarksAreInTheVersionAndListedApart() throws {
        let plain = try rules("[voirie]\n2: trou\n")
        let near = try rules("[voirie]\n2: trou\n[landmarks]\n0.5: pres de\n")
        #expect(plain.version != near.version)
        #expect(near.keywords.contains { $0.department == "landmarks" && $0.term == "pres de" && $0.weight == 0.5 })
        #expect(near.warnings.count == plain.warnings.count)
    }

    @Test func unreadableFileIsARulesFileError() {
        #expect(throws: RulesFileError.self) { try RuleSet.load(path: "/nonexistent/rules.conf") }
    }
}
