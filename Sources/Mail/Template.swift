import Foundation

/// One parsed template file: literal text, `{{name}}` placeholders, and `{{#name}}...{{/name}}`
/// sections kept only when the value is given and not empty (the optional note).
struct Template: Sendable {
    indirect enum Segment: Sendable {
        case text(String)
        case value(String)
        case section(String, [Segment])
    }

    let file: String
    let segments: [Segment]

    /// Parses `source`, refusing a placeholder outside `allowed` and unbalanced sections.
    init(source: String, file: String, allowed: Set<String>) throws(TemplateError) {
        self.file = file
        var stack: [(name: String, line: Int, segments: [Segment])] = [("", 0, [])]
        var rest = Substring(source)
        var line = 1
        while let open = Self.find("{{", in: rest) {
            let literal = rest[..<open.lowerBound]
            if !literal.isEmpty { stack[stack.count - 1].segments.append(.text(String(literal))) }
            line += literal.utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            guard let close = Self.find("}}", in: rest[open.upperBound...]) else {
                throw TemplateError(file: file, line: line, "'{{' without a closing '}}'")
            }
            let tag = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            let kind = tag.first
            let name = (kind == "#" || kind == "/") ? String(tag.dropFirst()) : tag
            guard allowed.contains(name) else {
                let known = allowed.sorted().map { "{{\($0)}}" }.joined(separator: ", ")
                throw TemplateError(file: file, line: line, "unknown placeholder '{{\(tag)}}' (known: \(known))")
            }
            switch kind {
            case "#":
                stack.append((name, line, []))
            case "/":
                guard stack.count > 1, let top = stack.last, top.name == name else {
                    throw TemplateError(file: file, line: line, "'{{/\(name)}}' closes no open '{{#\(name)}}'")
                }
                stack.removeLast()
                stack[stack.count - 1].segments.append(.section(name, top.segments))
            default:
                stack[stack.count - 1].segments.append(.value(name))
            }
        }
        if !rest.isEmpty { stack[stack.count - 1].segments.append(.text(String(rest))) }
        if stack.count > 1, let open = stack.last {
            throw TemplateError(file: file, line: open.line, "'{{#\(open.name)}}' is never closed")
        }
        segments = stack[0].segments
    }

    /// The first `needle` (two ASCII characters) in `text`, found over UTF-8 bytes: Foundation's `range(of:)`
    /// was most of the notifier's start-up after connecting.
    private static func find(_ needle: StaticString, in text: Substring) -> Range<Substring.Index>? {
        let bytes = text.utf8
        let first = needle.utf8Start[0], second = needle.utf8Start[1]
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let next = bytes.index(after: index)
            if bytes[index] == first, next != bytes.endIndex, bytes[next] == second {
                return index..<bytes.index(after: next)
            }
            index = next
        }
        return nil
    }

    /// Fills the template; `escape` is applied to every value (HTML escaping for HTML bodies).
    func render(_ values: [String: String], escape: (String) -> String) throws(TemplateError) -> String {
        try Self.render(segments, values, escape: escape, file: file)
    }

    private static func render(_ segments: [Segment], _ values: [String: String], escape: (String) -> String,
                               file: String) throws(TemplateError) -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .text(let text): out += text
            case .value(let name):
                guard let value = values[name] else {
                    throw TemplateError(file: file, "no value given for placeholder '{{\(name)}}'")
                }
                out += escape(value)
            case .section(let name, let inner):
                if let value = values[name], !value.isEmpty {
                    out += try render(inner, values, escape: escape, file: file)
                }
            }
        }
        return out
    }
}

