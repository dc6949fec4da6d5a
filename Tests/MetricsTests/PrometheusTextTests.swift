import Foundation
import Metrics
import Testing

@Suite("Prometheus text exposition (unit)")
struct PrometheusTextTests {
    @Test func counterHasHelpTypeAndLabelledSamples() {
        let family = MetricFamily(name: "chikaya_routed_complaints_total", help: "Complaints routed.",
                                  points: .counter([.init([.init("department", "voirie")], 3),
                                                    .init([.init("department", "proprete")], 12)]))
        #expect(PrometheusText.render([family]) == """
            # HELP chikaya_routed_complaints_total Complaints routed.
            # TYPE chikaya_routed_complaints_total counter
            chikaya_routed_complaints_total{department="voirie"} 3
            chikaya_routed_complaints_total{department="proprete"} 12

            """)
    }

    @Test func histogramBucketsAreCumulativeAndEndWithInf() {
        let family = MetricFamily(name: "chikaya_batch_duration_seconds", help: "Batch time.",
                                  points: .histogram([.init(labels: [.init("loop", "a")], upperBounds: [0.1, 1],
                                                            cumulativeCounts: [2, 5], sum: 3.25, count: 6)]))
        #expect(PrometheusText.render([family]) == """
            # HELP chikaya_batch_duration_seconds Batch time.
            # TYPE chikaya_batch_duration_seconds histogram
            chikaya_batch_duration_seconds_bucket{loop="a",le="0.1"} 2
            chikaya_batch_duration_seconds_bucket{loop="a",le="1"} 5
            chikaya_batch_duration_seconds_bucket{loop="a",le="+Inf"} 6
            chikaya_batch_duration_seconds_sum{loop="a"} 3.25
            chikaya_batch_duration_seconds_count{loop="a"} 6

            """)
    }

    @Test func labelValuesAndHelpAreEscaped() {
        let family = MetricFamily(name: "x_info", help: "a \\ b\nc \"q\"",
                                  points: .gauge([.init([.init("v", "back\\slash \"quoted\"\nline\r\nend")], 1)]))
        let text = PrometheusText.render([family])
        #expect(text.contains(#"# HELP x_info a \\ b\nc "q""#))
        #expect(text.contains(#"x_info{v="back\\slash \"quoted\"\nline"#))
        // Every line feed in the output ends a line: none is left inside a value.
        #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count == 4)
        #expect(!text.unicodeScalars.split(separator: "\n").contains { $0.first == "e" })
    }

    @Test func numbersAreWrittenTheWayParsersReadThem() {
        #expect(PrometheusText.number(42) == "42")
        #expect(PrometheusText.number(-3) == "-3")
        #expect(PrometheusText.number(0.25) == "0.25")
        #expect(PrometheusText.number(1e-5) == "1e-05")
        #expect(PrometheusText.number(.infinity) == "+Inf")
        #expect(PrometheusText.number(-.infinity) == "-Inf")
        #expect(PrometheusText.number(.nan) == "NaN")
        #expect(Double(PrometheusText.number(1_700_000_000.123)) == 1_700_000_000.123)
    }

    @Test func namesFollowTheFormatsRules() {
        #expect(MetricNames.isValidMetricName("chikaya_queue_oldest_age_seconds"))
        #expect(MetricNames.isValidMetricName("ns:rule_name"))
        #expect(!MetricNames.isValidMetricName("9lives"))
        #expect(!MetricNames.isValidMetricName("has-dash"))
        #expect(!MetricNames.isValidMetricName(""))
        #expect(MetricNames.isValidLabelName("department"))
        #expect(!MetricNames.isValidLabelName("__reserved"))
        #expect(!MetricNames.isValidLabelName("a:b"))
    }
}

@Suite("Metrics registry (unit)")
struct MetricsRegistryTests {
    @Test func familiesReflectUpdatesInRegistrationOrder() {
        let registry = MetricsRegistry()
        let routed = registry.counter("t_routed_total", help: "routed", labels: ["department"])
        _ = registry.counter("t_dead_total", help: "dead")
        let start = registry.gauge("t_start_time_seconds", help: "start")
        let batch = registry.histogram("t_batch_seconds", help: "batch", buckets: [0.1, 1])
        routed.increment("voirie")
        routed.increment(by: 2, "voirie")
        routed.increment(by: -5, "voirie")
        start.set(1_700_000_000)
        batch.observe(0.05)
        batch.observe([0.5, 2, 0.1], labels: [])
        let text = registry.exposition()
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines == [
            #"t_routed_total{department="voirie"} 3"#,
            "t_dead_total 0",
            "t_start_time_seconds 1700000000",
            #"t_batch_seconds_bucket{le="0.1"} 2"#,
            #"t_batch_seconds_bucket{le="1"} 3"#,
            #"t_batch_seconds_bucket{le="+Inf"} 4"#,
            "t_batch_seconds_sum 2.65",
            "t_batch_seconds_count 4",
        ])
    }

    @Test func concurrentUpdatesLoseNothing() {
        let registry = MetricsRegistry()
        let counter = registry.counter("t_events_total", help: "events", labels: ["loop"])
        let histogram = registry.histogram("t_wait_seconds", help: "wait", buckets: Histogram.durationBuckets)
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            for step in 0..<10_000 {
                counter.increment(String(index % 2))
                histogram.observe(Double(step % 7) / 1_000)
            }
            _ = registry.exposition()
        }
        #expect(counter.value("0") + counter.value("1") == 80_000)
        #expect(histogram.count() == 80_000)
    }
}
