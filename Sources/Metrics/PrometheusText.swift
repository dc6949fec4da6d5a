/// The Prometheus text exposition format, version 0.0.4: what `/metrics` serves, what
/// `chikaya metrics` prints and what node_exporter's textfile collector reads.
///
/// Pure: families in, text out. Families are written in the order given, each with its `# HELP`
/// and `# TYPE` lines; histograms as `_bucket` lines (cumulative, ending with `le="+Inf"`),
/// `_sum` and `_count`.
public enum PrometheusText {
    /// The `Content-Type` of the format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ families: [MetricFamily]) -> String {
        var out = ""
        for family in families { render(family, into: &out) }
        return out
    }

    public static func render(_ family: MetricFamily, into out: inout String) {
        out += "# HELP \(family.name) \(escapeHelp(family.help))\n"
        out += "# TYPE \(family.name) \(family.typeName)\n"
        switch family.points {
        case .counter(let samples), .gauge(let samples):
            for sample in samples {
                line(family.name, sample.labels, sample.value, into: &out)
            }
        case .histogram(let samples):
            for sample in samples {
                for (bound, count) in zip(sample.upperBounds, sample.cumulativeCounts) {
                    line(family.name + "_bucket", sample.labels + [.init("le", number(bound))], Double(count), into: &out)
                }
                line(family.name + "_bucket", sample.labels + [.init("le", "+Inf")], Double(sample.count), into: &out)
                line(family.name + "_sum", sample.labels, sample.sum, into: &out)
                line(family.name + "_count", sample.labels, Double(sample.count), into: &out)
            }
        }
    }

    private static func line(_ name: String, _ labels: [MetricFamily.Label], _ value: Double, into out: inout String) {
        out += name
        if !labels.isEmpty {
            out += "{"
            for (index, label) in labels.enumerated() {
                if index > 0 { out += "," }
                out += label.name
                out += "=\""
                out += escapeLabelValue(label.value)
                out += "\""
            }
            out += "}"
        }
        out += " "
        out += number(value)
        out += "\n"
    }

    /// A sample value or a bucket bound: whole numbers without a fraction, `+Inf`, `-Inf`, `NaN`,
    /// the shortest decimal that reads back to the same double otherwise.
    public static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return value.description
    }

    /// Label values: backslash, double quote and line feed escaped. Works on Unicode scalars, so a
    /// CR LF pair (one `Character` in Swift) cannot slip a raw line feed through.
    public static func escapeLabelValue(_ value: String) -> String {
        escape(value, quote: true)
    }

    /// HELP text: backslash and line feed escaped (quotes are fine there).
    public static func escapeHelp(_ text: String) -> String {
        escape(text, quote: false)
    }

    private static func escape(_ text: String, quote: Bool) -> String {
        let scalars = text.unicodeScalars
        guard scalars.contains(where: { $0 == "\\" || $0 == "\n" || (quote && $0 == "\"") }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in scalars {
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\"" where quote: out.append(contentsOf: "\\\"".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
