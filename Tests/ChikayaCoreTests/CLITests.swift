import ChikayaCore
import Foundation
import Postgres
import Testing
import TestSupport

/// Runs the built `chikaya` binary as a user would: exit codes, one-line messages, and what it
/// did to the test's own database.
struct CLI {
    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
        var stdoutLines: [Substring] { stdout.split(separator: "\n") }
        var stderrLines: [Substring] { stderr.split(separator: "\n") }
    }

    /// `chikaya` sits next to the test bundle in the build directory; the path from this source
    /// file is the fallback for runners that put the bundle elsewhere.
    static let binary: URL? = {
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL {
            candidates.append(executable.deletingLastPathComponent().appendingPathComponent("chikaya"))
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(repository.appendingPathComponent(".build/debug/chikaya"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Runs `chikaya arguments` in an empty temporary directory (so no config/chikaya.conf is
    /// picked up) with only `databaseURL` from the outside world. Output goes to files, not
    /// pipes, so a chatty command can never block on a full pipe.
    static func run(_ arguments: [String], databaseURL: String?, stdin: String? = nil) throws -> Outcome {
        let binary = try #require(binary, "chikaya binary not found; build with swift build --build-tests")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chikaya-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        try Data().write(to: out)
        try Data().write(to: err)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)

        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CHIKAYA_") && !$0.key.hasPrefix("PG") }
        environment["DATABASE_URL"] = databaseURL
        process.environment = environment
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let stdin {
            let input = directory.appendingPathComponent("stdin")
            try Data(stdin.utf8).write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return Outcome(status: process.terminationStatus,
                       stdout: try String(contentsOf: out, encoding: .utf8),
                       stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// A file with `text` in a temporary directory, removed by the caller.
    static func temporaryFile(_ text: String, name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chikaya-in-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// What needs no database.
@Suite struct CLIUsageUnitTests {
    @Test func helpListsTheCommandsAndExitsZero() throws {
        let outcome = try CLI.run(["--help"], databaseURL: nil)
        #expect(outcome.status == 0)
        for command in ["migrate", "submit", "version"] {
            #expect(outcome.stdout.contains(command))
        }
        #expect(outcome.stderr.isEmpty)
    }

    @Test func helpForOneCommandShowsItsUsage() throws {
        let outcome = try CLI.run(["help", "submit"], databaseURL: nil)
        #expect(outcome.status == 0)
        #expect(outcome.stdout.hasPrefix("usage: chikaya submit"))
        let viaFlag = try CLI.run(["submit", "--help"], databaseURL: nil)
        #expect(viaFlag.status == 0)
        #expect(viaFlag.stdout == outcome.stdout)
    }

    @Test func unknownCommandIsOneLineAndExit64() throws {
        let outcome = try CLI.run(["frobnicate"], databaseURL: nil)
        #expect(outcome.status == 64)
        #expect(outcome.stderrLines.count == 1)
        #expect(outcome.stderr.contains("'frobnicate'"))
        #expect(outcome.stdout.isEmpty)
    }

    @Test func unknownOptionIsOneLineAndExit64() throws {
        let outcome = try CLI.run(["migrate", "--frobnicate"], databaseURL: nil)
        #expect(outcome.status == 64)
        #expect(outcome.stderrLines.count == 1)
        #expect(outcome.stderr.contains("'--frobnicate'"))
    }

    @Test func versionPrintsTheVersion() throws {
        let outcome = try CLI.run(["version"], databaseURL: nil)
        #expect(outcome.status == 0)
        #expect(outcome.stdout.hasPrefix("chikaya "))
        #expect(outcome.stdoutLines.count == 1)
    }

    @Test func classifyBatchStreamsRowsCutByItsBlocksInOrder() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let rules = repository.appendingPathComponent("config/routing-rules.conf").path
        let texts = ["Lampadaire éteint rue 9 depuis une semaine", "الأزبال متراكمة في الحي منذ أيام", "fuite d'eau devant l'école"]
        // About 2.5 MB, so that the 1 MiB blocks cut rows: CRLF and LF rows, an empty line, and
        // a last row without its newline.
        let padding = String(repeating: "y", count: 150)
        var tsv = "id\tlang\tarrondissement\tdepartment\ttext\n"
        let rows = 15_000
        for i in 0..<rows {
            tsv += "r\(i)\t\t\t\t\(texts[i % 3]) \(padding)"
            if i == 700 { tsv += "\n" }
            if i < rows - 1 { tsv += i % 2 == 0 ? "\r\n" : "\n" }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chikaya-batch-\(UUID().uuidString).tsv")
        try Data(tsv.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let outcome = try CLI.run(["classify", "--rules", rules, "--batch", file.path], databaseURL: nil)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdoutLines
        #expect(lines.count == rows)
        var expected: [String] = []
        for text in texts {
            let single = try CLI.run(["classify", "--rules", rules, "\(text) \(padding)"], databaseURL: nil)
            expected.append(single.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(!expected.contains("triage"), "each sample names a department: \(expected)")
        for (i, line) in lines.enumerated() {
            let fields = line.split(separator: "\t")
            guard fields.count == 3, fields[0] == "r\(i)", fields[1] == expected[i % 3] else {
                Issue.record("row \(i): \(line)")
                break
            }
        }
    }

    @Test func databaseDownIsOneLineAndExit69() throws {
        // Nothing listens on port 1: the connection is refused at once.
        for command in [["migrate"], ["submit", "--text", "Fuite d'eau"]] {
            let outcome = try CLI.run(command, databaseURL: "postgresql://postgres@127.0.0.1:1/postgres")
            #expect(outcome.status == 69, "\(command)")
            #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
            #expect(outcome.stderr.hasPrefix("chikaya: "))
            #expect(outcome.stderr.contains("database"))
        }
    }
}

@Suite(.enabled(if: TestDatabase.available, "needs DATABASE_URL (run through scripts/test)"))
struct CLIIntegrationTests {
    func count(_ table: String, in database: TestDatabase) throws -> Int {
        try database.connect().query("SELECT count(*) FROM \(table)").single().decode(0, as: Int.self)
    }

    @Test func migrateTwiceIsANoOp() throws {
        let database = try TestDatabase("climigrate")
        defer { database.drop() }
        let first = try CLI.run(["migrate"], databaseURL: database.url)
        #expect(first.status == 0, "\(first.stderr)")
        // Derived from the program's list, so that appending a migration does not break this test.
        #expect(first.stdoutLines == Migrations.all.map { "applied migration \($0.version) \($0.name)" })
        let second = try CLI.run(["migrate"], databaseURL: database.url)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdoutLines == ["schema is up to date (\(Migrations.all.count) migrations applied)"])
        #expect(try count("schema_migrations", in: database) == Migrations.all.count)
    }

    @Test func submitTextPrintsAReference() throws {
        let database = try TestDatabase("clisubmit")
        defer { database.drop() }
        #expect(try CLI.run(["migrate"], databaseURL: database.url).status == 0)
        let outcome = try CLI.run(["submit", "--text", "الماء مقطوع في درب السلطان", "--language", "ar",
                                   "--arrondissement", "al-fida", "--anonymous"], databaseURL: database.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let reference = try #require(outcome.stdoutLines.first.map(String.init))
        #expect(outcome.stdoutLines.count == 1)
        #expect(reference.wholeMatch(of: /CC-\d{4}-000001/) != nil)
        let row = try database.connect().query("SELECT body, language, arrondissement, anonymous FROM complaints WHERE reference = $1",
                                               [reference]).single()
        #expect(try row.decode(0, as: String.self) == "الماء مقطوع في درب السلطان")
        #expect(try row.decode(1, as: String?.self) == "ar")
        #expect(try row.decode(2, as: String?.self) == "al-fida")
        #expect(try row.decode(3, as: Bool.self))
    }

    @Test func submitFileInsertsEveryLine() throws {
        let database = try TestDatabase("clifile")
        defer { database.drop() }
        #expect(try CLI.run(["migrate"], databaseURL: database.url).status == 0)
        let file = try CLI.temporaryFile("""
            id\tlang\tarrondissement\tdepartment\ttext
            d001\tfr\tanfa\tvoirie\tNid de poule
            d002\tar\t\ttriage\tخلاف مع جاري
            d003\tmixed\tmaarif\tproprete\tZbel f zenqa
            """, name: "ok.tsv")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let outcome = try CLI.run(["submit", "--file", file.path], databaseURL: database.url)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdoutLines.count == 3)
        #expect(outcome.stdoutLines.allSatisfy { $0.wholeMatch(of: /CC-\d{4}-\d{6}/) != nil })
        #expect(try count("complaints", in: database) == 3)
    }

    @Test func submitFileWithBadArrondissementFailsNamingTheLineAndInsertsNothing() throws {
        let database = try TestDatabase("clibadfile")
        defer { database.drop() }
        #expect(try CLI.run(["migrate"], databaseURL: database.url).status == 0)
        let file = try CLI.temporaryFile("""
            id\tlang\tarrondissement\tdepartment\ttext
            d001\tfr\tanfa\tvoirie\tNid de poule
            d002\tfr\tatlantis\tvoirie\tTrottoir cassé
            d003\tfr\tmaarif\tvoirie\tFeu rouge en panne
            """, name: "bad.tsv")
        defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
        let outcome = try CLI.run(["submit", "--file", file.path], databaseURL: database.url)
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("\(file.path):3:"))
        #expect(outcome.stderr.contains("'atlantis'"))
        #expect(outcome.stderr.contains("nothing was inserted"))
        #expect(outcome.stdout.isEmpty)
        #expect(try count("complaints", in: database) == 0)
    }

    @Test func submitTextRefusedByTheDatabaseIsOneLineWithSQLState() throws {
        // Without migrate the table is missing: a database error, reported with its SQLSTATE.
        let database = try TestDatabase("clinoschema")
        defer { database.drop() }
        let outcome = try CLI.run(["submit", "--text", "Fuite"], databaseURL: database.url)
        #expect(outcome.status != 0)
        #expect(outcome.stderrLines.count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("42P01"))
    }

    @Test func submitAnonymousWithANameIsRefusedBeforeTheDatabase() throws {
        let database = try TestDatabase("clianon")
        defer { database.drop() }
        #expect(try CLI.run(["migrate"], databaseURL: database.url).status == 0)
        let outcome = try CLI.run(["submit", "--file", "-"], databaseURL: database.url,
                                  stdin: "text\tanonymous\tname\nFuite\ttrue\tAmina\n")
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("<stdin>:2:"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("anonymous"))
        #expect(try count("complaints", in: database) == 0)
    }

    @Test func contactDataAndRelaysAreRefusedOnTheCommandLine() throws {
        for arguments in [["submit", "--text", "Fuite", "--email", "a@example.org"],
                          ["submit", "--text", "Fuite", "--name", "Amina"],
                          ["submit", "--text", "Fuite", "--phone", "0600000000"],
                          ["mail", "send-test", "--smtp-url", "smtp://u:p@127.0.0.1:1", "--from", "a@b.c", "--to", "d@e.f"]] {
            let outcome = try CLI.run(arguments, databaseURL: "postgresql://127.0.0.1:1/none")
            #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.contains("is not accepted"), "\(outcome.stderr)")
            #expect(!outcome.stderr.contains("a@example.org") && !outcome.stderr.contains("u:p"), "the value is not echoed")
        }
    }

    @Test func aSubmitFileThatIsNotUTF8OrHoldsANulIsRefusedWithItsLine() throws {
        let path = NSTemporaryDirectory() + "bad-\(UUID().uuidString).tsv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = Array("text\nbonjour\n".utf8) + [0x66, 0xE9, 0x0A] + Array("ok\n".utf8) + [0x61, 0x00, 0x62, 0x0A]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let outcome = try CLI.run(["submit", "--file", path], databaseURL: "postgresql://127.0.0.1:1/none")
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains("\(path):3: not valid UTF-8"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(path):5: a NUL byte at byte 2"), "\(outcome.stderr)")
    }
}
