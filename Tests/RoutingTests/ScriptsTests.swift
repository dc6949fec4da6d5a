import Foundation
import Testing

/// What the scripts under `scripts/` promise their users, checked without running their work.
///
/// The README promises that every benchmark figure was taken on a durable cluster (`fsync`,
/// `synchronous_commit` and `full_page_writes` on). Until 2026-12-03 `scripts/bench-mail` and
/// `scripts/bench-classify` started theirs with the throwaway cluster's fast settings, and their
/// figures said otherwise than the README; this keeps a new benchmark from doing the same.
struct ScriptsTests {
    @Test func everyBenchmarkStartsADurableCluster() throws {
        let scripts = ShippedRulesTests.repo.appendingPathComponent("scripts")
        let benchmarks = try FileManager.default.contentsOfDirectory(atPath: scripts.path)
            .filter { $0.hasPrefix("bench-") }.sorted()
        #expect(benchmarks.contains("bench-route") && benchmarks.contains("bench-mail"),
                "found no benchmark scripts in \(scripts.path): \(benchmarks)")
        var starts = 0
        var offenders: [String] = []
        for name in benchmarks {
            let text = try String(contentsOf: scripts.appendingPathComponent(name), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                guard code.contains("pg_cluster_start ") || code.contains("pg_cluster_reuse_or_start ") else { continue }
                starts += 1
                if !code.contains("PG_CLUSTER_DURABLE=1") { offenders.append("scripts/\(name):\(number + 1)") }
            }
        }
        #expect(starts >= 3, "expected bench-route, bench-mail and bench-classify to start clusters; found \(starts) starts")
        #expect(offenders.isEmpty, "these benchmark lines start a cluster without PG_CLUSTER_DURABLE=1: \(offenders)")
    }

    /// Every command answers `--help` with its usage and does nothing else: `scripts/bench-mail`
    /// took `--help` for a count and stopped on an unbound variable, `scripts/bench-classify` took
    /// it for a corpus and built the program first.
    @Test func everyScriptAnswersHelpAtOnce() throws {
        let scripts = ShippedRulesTests.repo.appendingPathComponent("scripts")
        let names = try FileManager.default.contentsOfDirectory(atPath: scripts.path).sorted().filter { name in
            var isDirectory: ObjCBool = false
            let path = scripts.appendingPathComponent(name).path
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: path)
        }
        #expect(names.contains("test") && names.contains("demo"), "found no scripts in \(scripts.path): \(names)")
        for name in names {
            let run = Process()
            run.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            // A script that ignored --help would start its work; ten seconds stop it.
            run.arguments = ["timeout", "10", "bash", scripts.appendingPathComponent(name).path, "--help"]
            let out = Pipe()
            run.standardOutput = out
            run.standardError = FileHandle.nullDevice
            try run.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            run.waitUntilExit()
            #expect(run.terminationStatus == 0, "scripts/\(name) --help exited \(run.terminationStatus)")
            #expect(text.contains("scripts/\(name)"), "scripts/\(name) --help did not print its usage: \(text.prefix(200))")
        }
    }
}
