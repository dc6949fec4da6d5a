import Foundation

/// One rule hit as a routing decision records it: the element type of the JSON array in
/// `routing_decisions.matches`. The worker writes it (`json(_:)`), `complaints show` and the
/// office's email read it (`decode(_:)`); nothing else spells its keys.
public struct DecisionMatch: Codable, Sendable, Equatable {
    /// The keyword as written in the rules file.
    public let term: String
    public let department: String
    public let weight: Double
    /// Where the rule is written, as `file:line`.
    public let rule: String
    /// Byte offsets of the match in the complaint's UTF-8 text.
    public let start: Int
    public let end: Int
    /// The complaint's text at those offsets.
    public let text: String
    /// `RuleMatch.Status.code`: counted, repeated, excluded, outside-arrondissement, near-landmark.
    public let status: String

    public init(term: String, department: String, weight: Double, rule: String, start: Int, end: Int, text: String,
                status: String) {
        self.term = term
        self.department = department
        self.weight = weight
        self.rule = rule
        self.start = start
        self.end = end
        self.text = text
        self.status = status
    }

    public init(_ match: RuleMatch) {
        self.init(term: match.term, department: match.department, weight: match.weight,
                  rule: "\(match.file):\(match.line)", start: match.utf8Range.lowerBound, end: match.utf8Range.upperBound,
                  text: match.text, status: match.status.code)
    }

    /// True when the hit added to its department's score.
    public var isCounted: Bool { status == RuleMatch.Status.counted.code }

    /// The matches as a compact JSON array. Written by hand rather than with `JSONEncoder`, which
    /// would cost more than classifying on the worker's path, and as bytes (a String grown by
    /// interpolations was a seventh of the routing worker's CPU); `DecisionMatchTests` holds it
    /// to the `Codable` form that `decode` reads.
    public static func json(_ matches: [RuleMatch]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(2 + matches.count * 200)
        out.append(UInt8(ascii: "["))
        for (k, m) in matches.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            var text = m.text
            text.withUTF8 { text in
                appendObject(term: m.term, department: m.department, weight: m.weight, file: m.file, line: m.line,
                             range: m.utf8Range, text: text, status: m.status.code, to: &out)
            }
        }
        out.append(UInt8(ascii: "]"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends one element of `json(_:)`, from its parts: the worker writes its decisions' matches
    /// straight from the classifier's hits (`Classifier.record`), without a `RuleMatch` each.
    static func appendObject(term: String, department: String, weight: Double, file: String, line: Int,
                             range: Range<Int>, text: UnsafeBufferPointer<UInt8>, status: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        key(.term, first: true, &out)
        JSONText.appendQuoted(term, to: &out)
        key(.department, &out)
        JSONText.appendQuoted(department, to: &out)
        key(.weight, &out)
        out.append(contentsOf: JSONText.number(weight).utf8)
        key(.rule, &out)
        out.append(UInt8(ascii: "\""))
        JSONText.appendEscaped(file, to: &out)
        out.append(UInt8(ascii: ":"))
        JSONText.appendInteger(line, to: &out)
        out.append(UInt8(ascii: "\""))
        key(.start, &out)
        JSONText.appendInteger(range.lowerBound, to: &out)
        key(.end, &out)
        JSONText.appendInteger(range.upperBound, to: &out)
        key(.text, &out)
        out.append(UInt8(ascii: "\""))
        JSONText.appendEscaped(utf8: text, to: &out)
        out.append(UInt8(ascii: "\""))
        key(.status, &out)
        JSONText.appendQuoted(status, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends `"name":` (after a comma unless it is the object's first key).
    private static func key(_ key: CodingKeys, first: Bool = false, _ out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: key.stringValue.utf8)
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: ":"))
    }

    /// Reads a recorded array; empty when there is none or it cannot be read (an audit record
    /// that does not parse must not stop a report or an email).
    public static func decode(_ json: String?) -> [DecisionMatch] {
        guard let json else { return [] }
        return (try? JSONDecoder().decode([DecisionMatch].self, from: Data(json.utf8))) ?? []
    }

    /// The texts that counted for `department`, each once, in the order they first matched: what
    /// the office's email quotes as the reason for the routing.
    public static func countedTexts(_ matches: [DecisionMatch], for department: String) -> [String] {
        var seen = Set<String>()
        var texts: [String] = []
        for m in matches where m.isCounted && m.department == department && seen.insert(m.text).inserted {
            texts.append(m.text)
        }
        return texts
    }
}
