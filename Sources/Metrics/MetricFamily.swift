/// One named figure of the Prometheus exposition with all its label sets: what the writer renders.
///
/// Names follow Prometheus' conventions, checked when a family is made (they are constants of our
/// code, so a bad one is a programming error): counters end in `_total`, durations in `_seconds`.
public struct MetricFamily: Sendable {
    /// A label's name and value.
    public struct Label: Sendable, Equatable {
        public let name: String
        public let value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One label set of a counter or gauge and its value.
    public struct Sample: Sendable {
        public let labels: [Label]
        public let value: Double

        public init(_ labels: [Label] = [], _ value: Double) {
            self.labels = labels
            self.value = value
        }
    }

    /// One label set of a histogram: observations counted per upper bound (cumulative, the
    /// implicit `+Inf` bound excluded), their sum and their number.
    public struct HistogramSample: Sendable {
        public let labels: [Label]
        public let upperBounds: [Double]
        public let cumulativeCounts: [UInt64]
        public let sum: Double
        public let count: UInt64

        public init(labels: [Label] = [], upperBounds: [Double], cumulativeCounts: [UInt64], sum: Double, count: UInt64) {
            precondition(upperBounds.count == cumulativeCounts.count, "one count per upper bound")
            self.labels = labels
            self.upperBounds = upperBounds
            self.cumulativeCounts = cumulativeCounts
            self.sum = sum
            self.count = count
        }
    }

    /// The kind of figure and its samples.
    public enum Points: Sendable {
        case counter([Sample])
        case gauge([Sample])
        case histogram([HistogramSample])
    }

    public let name: String
    public let help: String
    public let points: Points

    public init(name: String, help: String, points: Points) {
        precondition(MetricNames.isValidMetricName(name), "invalid metric name '\(name)'")
        if case .counter = points {
            precondition(name.hasSuffix("_total"), "a counter's name ends in _total: '\(name)'")
        }
        self.name = name
        self.help = help
        self.points = points
    }

    /// The word of the `# TYPE` line.
    public var typeName: String {
        switch points {
        case .counter: "counter"
        case .gauge: "gauge"
        case .histogram: "histogram"
        }
    }
}

/// Which names the exposition format accepts.
public enum MetricNames {
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValidMetricName(_ name: String) -> Bool {
        isValid(name, extra: ":")
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and not starting with `__` (reserved for Prometheus itself).
    public static func isValidLabelName(_ name: String) -> Bool {
        isValid(name, extra: "") && !name.hasPrefix("__")
    }

    private static func isValid(_ name: String, extra: String) -> Bool {
        guard let first = name.unicodeScalars.first else { return false }
        func letter(_ c: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || extra.unicodeScalars.contains(c)
        }
        guard letter(first) else { return false }
        return name.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) }
    }
}
