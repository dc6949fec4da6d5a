/// The few JSON and number spellings the classifier's outputs need, without Foundation's encoder
/// (which would cost more than classifying). Public so the domain's few hand-built JSON
/// documents (the worker's batch of decisions) share the same quoting.
public enum JSONText {
    /// `s` as a JSON string: quoted, and escaped as `appendEscaped(_:to:)` escapes it.
    public static func quote(_ s: String) -> String {
        // Almost every text (keywords, departments, complaint words) needs no escape: one pass
        // over the UTF-8 bytes, then one copy. Appending scalar by scalar was a quarter of the
        // routing worker's CPU (callgrind, scripts/bench-route's city run).
        if !needsEscape(s.utf8) { return "\"" + s + "\"" }
        var out: [UInt8] = []
        appendQuoted(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// True when some byte must be escaped inside a JSON string: a quote, a backslash or a control.
    private static func needsEscape<C: Sequence<UInt8>>(_ bytes: C) -> Bool {
        bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` to `out` as a JSON string, quoted and escaped as `quote(_:)` writes it: for
    /// documents built as bytes (a routing batch's decisions), where each `String` appended and
    /// grown in turn cost the worker more than the bytes themselves.
    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(s, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `s` escaped for the inside of a JSON string (no quotes around it).
    public static func appendEscaped(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendEscaped(utf8: $0, to: &out) }
    }

    /// Appends UTF-8 `bytes` escaped as `appendEscaped(_:to:)` escapes a string's.
    public static func appendEscaped(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if !needsEscape(bytes) {
            out.append(contentsOf: bytes)
            return
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case ..<0x20:
                // \u00XX, lower-case hex.
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                        hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xf)]])
            default: out.append(byte)
            }
        }
    }

    /// Appends the decimal digits of `value`.
    public static func appendInteger<T: BinaryInteger>(_ value: T, to out: inout [UInt8]) {
        // Digit by digit into a small buffer: a String per number was a tenth of writing the matches.
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = UInt64(value.magnitude)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var at = 20
            repeat {
                at -= 1
                digits[at] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[at...]))
        }
    }

    /// A JSON array of `items`, each written as one JSON value by `element` (the batches that
    /// stores hand to `jsonb_to_recordset` as one parameter).
    public static func array<S: Sequence>(_ items: S, _ element: (S.Element) -> String) -> String {
        var json = "["
        for (index, item) in items.enumerated() {
            if index > 0 { json += "," }
            json += element(item)
        }
        return json + "]"
    }

    /// Shortest plain spelling: 2 rather than 2.0, 0.5, 0.333 (three decimals at most).
    static func number(_ v: Double) -> String {
        let scaled = (v * 1000).rounded()
        if scaled == (v).rounded() * 1000 { return String(Int(v.rounded())) }
        var text = fixed3(scaled / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }

    /// Three decimals, e.g. 0.857, without Foundation's formatter.
    static func fixed3(_ v: Double) -> String {
        let scaled = Int((abs(v) * 1000).rounded())
        let frac = scaled % 1000
        let fracText = frac < 10 ? "00\(frac)" : frac < 100 ? "0\(frac)" : "\(frac)"
        return "\(v < 0 ? "-" : "")\(scaled / 1000).\(fracText)"
    }
}
