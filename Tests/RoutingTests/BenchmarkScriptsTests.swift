import Foundation
import Testing

/// The README promises that every benchmark figure was taken on a durable cluster (`fsync`,
/// `synchronous_commit` and `full_page_writes` on). Until 2026-12-03 `scripts/bench-mail` and
/// `scripts/bench-classify` started theirs with the throwaway cluster's fast settings, and their
/// figures said otherwise than the README; this keeps a new benchmark from doing the same.
struct BenchmarkScriptsTests {
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
}
