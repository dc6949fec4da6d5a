// The cost of one metrics update on the worker's and notifier's hot paths, against the least
// any thread-safe counter costs (a Mutex around a Double). Built by scripts/bench-metrics with
// swiftc -O together with Sources/Metrics; prints a table.
import Foundation
import Synchronization

@inline(never) func measure(_ iterations: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let start = clock.now
    body()
    let elapsed = (clock.now - start).components
    return (Double(elapsed.seconds) * 1e9 + Double(elapsed.attoseconds) / 1e9) / Double(iterations)
}

let iterations = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 2_000_000
let registry = MetricsRegistry()
let routed = registry.counter("bench_routed_total", help: "h", labels: ["department"])
let plain = registry.counter("bench_events_total", help: "h")
let durations = registry.histogram("bench_duration_seconds", help: "h", buckets: Histogram.durationBuckets)
let confidence = registry.histogram("bench_confidence", help: "h", buckets: [0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1])
let baseline = Mutex<Double>(0)
let departments = ["proprete", "eclairage", "voirie", "eau-assainissement", "espaces-verts", "transport"]

var rows: [(String, Double)] = []
rows.append(("baseline: Mutex<Double> += 1", measure(iterations) {
    for _ in 0..<iterations { baseline.withLock { $0 += 1 } }
}))
rows.append(("Counter.increment(), no labels", measure(iterations) {
    for _ in 0..<iterations { plain.increment() }
}))
rows.append(("Counter.increment(department)", measure(iterations) {
    for i in 0..<iterations { routed.increment(departments[i % departments.count]) }
}))
rows.append(("Histogram.observe(duration)", measure(iterations) {
    for i in 0..<iterations { durations.observe(Double(i % 1000) / 10_000) }
}))
let batch = (0..<500).map { Double($0 % 100) / 100 }
rows.append(("Histogram.observe(500 confidences), per value", measure(iterations / 500 * 500) {
    for _ in 0..<(iterations / 500) { confidence.observe(batch, labels: []) }
}))
let text = registry.exposition()
rows.append(("exposition() of these 4 metrics, per scrape", measure(10_000) {
    for _ in 0..<10_000 { _ = registry.exposition() }
}))

let base = rows[0].1
print("| operation | ns/op | vs baseline |")
print("|---|---|---|")
for (name, ns) in rows {
    print("| \(name) | \(String(format: "%.1f", ns)) | \(String(format: "%.1f", ns / base))x |")
}
print("(\(iterations) iterations, one thread; exposition is \(text.utf8.count) bytes)")
