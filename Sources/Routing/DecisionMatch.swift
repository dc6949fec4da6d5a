import Foundation

/// One rule hit as a routing decision explains it (`routing_decisions.matches`). The worker
/// writes the record (`json(_:)`), `complaints show` and the office's email read it
/// (`decode(_:text:)`); nothing else spells its form.
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

    /// The matches as `routing_decisions.matches` records them, the explanation's second form:
    /// `{"rules":FILE,"hits":[[TERM,DEPARTMENT,WEIGHT,LINE,START,END,STATUS],...]}`, or `[]` when
    /// nothing matched. The first form (still read by `decode`) was an array of objects with
    /// every key spelt out, the rules file on each hit and the matched text copied: 830 of a
    /// decision row's 894 bytes, a quarter of the WAL a routed complaint wrote, and writing it
    /// cost a fifth of the drain (16,818 against 20,598 complaints/s without matches, four pairs
    /// on a durable cluster); this form is 307 bytes on the same complaints. The matched text is
    /// the complaint's own at `START..<END` (UTF-8 offsets; no role of the service may change a
    /// complaint's text), so `decode` cuts it from there.
    ///
    /// Written by hand rather than with `JSONEncoder`, which would cost more than classifying on
    /// the worker's path, and as bytes (a String grown by interpolations was a seventh of the
    /// routing worker's CPU); `DecisionMatchTests` holds it to what `decode` reads.
    public static func json(_ matches: [RuleMatch]) -> String {
        guard let file = matches.first?.file else { return "[]" }
        var out: [UInt8] = []
        out.reserveCapacity(32 + matches.count * 64)
        appendOpening(file: file, to: &out)
        for (k, m) in matches.enumerated() {
            appendHit(first: k == 0, term: m.term, department: m.department, weight: m.weight, line: m.line,
                      range: m.utf8Range, status: m.status.code, to: &out)
        }
        appendClosing(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the record's opening, up to its first hit: `{"rules":FILE,"hits":[`.
    static func appendOpening(file: String, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"rules":"#.utf8)
        JSONText.appendQuoted(file, to: &out)
        out.append(contentsOf: #","hits":["#.utf8)
    }

    /// Appends one hit of `json(_:)`, from its parts: the worker writes its decisions' matches
    /// straight from the classifier's hits (`Classifier.record`), without a `RuleMatch` each.
    static func appendHit(first: Bool, term: String, department: String, weight: Double, line: Int,
                          range: Range<Int>, status: String, to out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "["))
        JSONText.appendQuoted(term, to: &out)
        out.append(UInt8(ascii: ","))
        JSONText.appendQuoted(department, to: &out)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: JSONText.number(weight).utf8)
        out.append(UInt8(ascii: ","))
        JSONText.appendInteger(line, to: &out)
        out.append(UInt8(ascii: ","))
        JSONText.appendInteger(range.lowerBound, to: &out)
        out.append(UInt8(ascii: ","))
        JSONText.appendInteger(range.upperBound, to: &out)
        out.append(UInt8(ascii: ","))
        JSONText.appendQuoted(status, to: &out)
        out.append(UInt8(ascii: "]"))
    }

    /// Appends the record's end after its last hit.
    static func appendClosing(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "]"))
        out.append(UInt8(ascii: "}"))
    }

    /// Reads a recorded explanation of either form (`json(_:)`), with `text`, the complaint's
    /// text, for the matched words of the second; empty when there is none or it cannot be read
    /// (an audit record that does not parse must not stop a report or an email).
    public static func decode(_ json: String?, text: String) -> [DecisionMatch] {
        guard let json else { return [] }
        let data = Data(json.utf8)
        if json.utf8.first == UInt8(ascii: "[") {
            return (try? JSONDecoder().decode([DecisionMatch].self, from: data)) ?? []
        }
        guard let record = try? JSONDecoder().decode(CompactRecord.self, from: data) else { return [] }
        let utf8 = Array(text.utf8)
        return record.hits.map { hit in
            let words = hit.start >= 0 && hit.start <= hit.end && hit.end <= utf8.count
                ? String(decoding: utf8[hit.start..<hit.end], as: UTF8.self) : ""
            return DecisionMatch(term: hit.term, department: hit.department, weight: hit.weight,
                                 rule: "\(record.rules):\(hit.line)", start: hit.start, end: hit.end, text: words,
                                 status: hit.status)
        }
    }

    /// The second form of the record, as `json(_:)` writes it.
    private struct CompactRecord: Decodable {
        let rules: String
        let hits: [Hit]

        /// One hit: an array of its seven values in `appendHit`'s order.
        struct Hit: Decodable {
            let term: String, department: String, weight: Double, line: Int, start: Int, end: Int, status: String

            init(from decoder: any Decoder) throws {
                var values = try decoder.unkeyedContainer()
                term = try values.decode(String.self)
                department = try values.decode(String.self)
                weight = try values.decode(Double.self)
                line = try values.decode(Int.self)
                start = try values.decode(Int.self)
                end = try values.decode(Int.self)
                status = try values.decode(String.self)
            }
        }
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
