import Synchronization

/// The figures of one process (a worker, a notifier), collected for `/metrics`.
///
/// Safe to use from any thread: each metric keeps its values behind a lock of its own, so two
/// loops updating different metrics never wait on each other, and an update is a lock, a
/// dictionary look-up by label values and an addition. Metrics are registered once (usually as
/// `static let`s) and live as long as the process.
public final class MetricsRegistry: Sendable {
    /// The registry the process serves on `/metrics`.
    public static let process = MetricsRegistry()

    private let metrics = Mutex<[any CollectedMetric]>([])

    public init() {}

    public func counter(_ name: String, help: String, labels: [String] = []) -> Counter {
        register(Counter(name: name, help: help, labelNames: labels))
    }

    public func gauge(_ name: String, help: String, labels: [String] = []) -> Gauge {
        register(Gauge(name: name, help: help, labelNames: labels))
    }

    public func histogram(_ name: String, help: String, labels: [String] = [], buckets: [Double]) -> Histogram {
        register(Histogram(name: name, help: help, labelNames: labels, buckets: buckets))
    }

    /// Every registered metric's current values, in registration order.
    public func families() -> [MetricFamily] {
        let all = metrics.withLock { $0 }
        return all.map { $0.family() }
    }

    /// The exposition text of `families()`.
    public func exposition() -> String {
        PrometheusText.render(families())
    }

    private func register<M: CollectedMetric>(_ metric: M) -> M {
        metrics.withLock { list in
            precondition(!list.contains { $0.name == metric.name }, "metric \(metric.name) registered twice")
            list.append(metric)
        }
        return metric
    }
}

/// A metric the registry can read.
protocol CollectedMetric: Sendable {
    var name: String { get }
    func family() -> MetricFamily
}

/// Checks done once when a metric is made: names are constants of our code.
private func checkLabels(_ names: [String], of metric: String) {
    for name in names {
        precondition(MetricNames.isValidLabelName(name) && name != "le", "invalid label name '\(name)' on \(metric)")
    }
}

private func labelled(_ names: [String], _ values: [String]) -> [MetricFamily.Label] {
    zip(names, values).map { MetricFamily.Label($0, $1) }
}

/// A value that only goes up (events, seconds spent), per label set; its name ends in `_total`.
public final class Counter: CollectedMetric {
    public let name: String
    public let help: String
    public let labelNames: [String]
    private let values = Mutex<[[String]: Double]>([:])

    init(name: String, help: String, labelNames: [String]) {
        precondition(name.hasSuffix("_total"), "a counter's name ends in _total: '\(name)'")
        checkLabels(labelNames, of: name)
        self.name = name
        self.help = help
        self.labelNames = labelNames
        // Without labels the one series exists from the start, so rate() sees its first rise.
        if labelNames.isEmpty { values.withLock { $0[[]] = 0 } }
    }

    /// Adds `amount` (ignored unless positive) to the series of `labelValues`.
    public func increment(by amount: Double = 1, _ labelValues: String...) {
        add([(labelValues, amount)])
    }

    /// Several additions under one lock (one per label set of a batch).
    public func add(_ amounts: [([String], Double)]) {
        values.withLock { values in
            for (labels, amount) in amounts where amount > 0 {
                precondition(labels.count == labelNames.count, "\(name) takes labels \(labelNames)")
                values[labels, default: 0] += amount
            }
        }
    }

    /// Makes a series exist at 0 before its first event.
    public func touch(_ labelValues: String...) {
        precondition(labelValues.count == labelNames.count, "\(name) takes labels \(labelNames)")
        values.withLock { if $0[labelValues] == nil { $0[labelValues] = 0 } }
    }

    /// The current value of one series (0 when it never moved).
    public func value(_ labelValues: String...) -> Double {
        values.withLock { $0[labelValues] ?? 0 }
    }

    func family() -> MetricFamily {
        let snapshot = values.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        return MetricFamily(name: name, help: help,
                            points: .counter(snapshot.map { .init(labelled(labelNames, $0.key), $0.value) }))
    }
}

/// A value that goes up and down (connections open, the start time), per label set.
public final class Gauge: CollectedMetric {
    public let name: String
    public let help: String
    public let labelNames: [String]
    private let values = Mutex<[[String]: Double]>([:])

    init(name: String, help: String, labelNames: [String]) {
        precondition(!name.hasSuffix("_total"), "a gauge's name does not end in _total: '\(name)'")
        checkLabels(labelNames, of: name)
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    public func set(_ value: Double, _ labelValues: String...) {
        precondition(labelValues.count == labelNames.count, "\(name) takes labels \(labelNames)")
        values.withLock { $0[labelValues] = value }
    }

    public func add(_ amount: Double, _ labelValues: String...) {
        precondition(labelValues.count == labelNames.count, "\(name) takes labels \(labelNames)")
        values.withLock { $0[labelValues, default: 0] += amount }
    }

    public func value(_ labelValues: String...) -> Double {
        values.withLock { $0[labelValues] ?? 0 }
    }

    func family() -> MetricFamily {
        let snapshot = values.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        return MetricFamily(name: name, help: help,
                            points: .gauge(snapshot.map { .init(labelled(labelNames, $0.key), $0.value) }))
    }
}

/// Observations (durations, confidences) counted into fixed buckets, per label set.
public final class Histogram: CollectedMetric {
    public let name: String
    public let help: String
    public let labelNames: [String]
    public let upperBounds: [Double]

    /// Counts per bucket (not cumulative; the last slot is above every bound), sum and number.
    struct Series {
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    private let series = Mutex<[[String]: Series]>([:])

    /// Durations from a millisecond to half a minute: claims, batches, SMTP phases.
    public static let durationBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        checkLabels(labelNames, of: name)
        precondition(!buckets.isEmpty && buckets.allSatisfy(\.isFinite), "\(name): finite bucket bounds")
        precondition(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 }, "\(name): increasing bucket bounds")
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.upperBounds = buckets
        if labelNames.isEmpty { series.withLock { $0[[]] = Series(counts: Array(repeating: 0, count: buckets.count + 1)) } }
    }

    public func observe(_ value: Double, _ labelValues: String...) {
        observe([value], labels: labelValues)
    }

    /// Several observations of one label set under one lock.
    public func observe(_ values: [Double], labels labelValues: [String] = []) {
        precondition(labelValues.count == labelNames.count, "\(name) takes labels \(labelNames)")
        let bounds = upperBounds
        series.withLock { all in
            var entry = all[labelValues] ?? Series(counts: Array(repeating: 0, count: bounds.count + 1))
            for value in values where !value.isNaN {
                // Few bounds: a straight scan is as quick as a binary search and simpler.
                var slot = bounds.count
                for (index, bound) in bounds.enumerated() where value <= bound {
                    slot = index
                    break
                }
                entry.counts[slot] += 1
                entry.sum += value
                entry.count += 1
            }
            all[labelValues] = entry
        }
    }

    /// How many observations one label set has.
    public func count(_ labelValues: String...) -> UInt64 {
        series.withLock { $0[labelValues]?.count ?? 0 }
    }

    func family() -> MetricFamily {
        let snapshot = series.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let samples = snapshot.map { labels, entry in
            var running: UInt64 = 0
            let cumulative = entry.counts.dropLast().map { count -> UInt64 in
                running += count
                return running
            }
            return MetricFamily.HistogramSample(labels: labelled(labelNames, labels), upperBounds: upperBounds,
                                                cumulativeCounts: cumulative, sum: entry.sum, count: entry.count)
        }
        return MetricFamily(name: name, help: help, points: .histogram(samples))
    }
}
