import Foundation

/// A filled template, ready for `MIMEMessage`.
public struct RenderedMail: Sendable, Equatable {
    public let subject: String
    public let text: String
    public let html: String
}

/// Email templates loaded once at start-up from `config/templates/NAME/LANG.{subject,txt,html}`.
/// Which names exist and which placeholders each may use is the caller's to say (the citizen's
/// emails: `CitizenMailRenderer.templates`; the offices': `DepartmentMailRenderer.templates`);
/// everything is checked at load time.
public struct MailTemplates: Sendable {
    public static let defaultLanguages = ["ar", "fr"]

    private struct Entry: Sendable {
        let subject: Template
        let text: Template
        let html: Template
    }

    private let entries: [String: Entry]
    public let languages: [String]
    public var names: [String] { Array(Set(entries.keys.map { String($0.split(separator: "/")[0]) })).sorted() }

    public static func load(directory: String,
                            templates: [String: Set<String>],
                            languages: [String] = defaultLanguages) throws(TemplateError) -> MailTemplates {
        var entries: [String: Entry] = [:]
        for (name, allowed) in templates.sorted(by: { $0.key < $1.key }) {
            for language in languages {
                let base = "\(directory)/\(name)/\(language)"
                let subject = try read("\(base).subject", allowed: allowed)
                let text = try read("\(base).txt", allowed: allowed)
                let html = try read("\(base).html", allowed: allowed)
                if language == "ar" {
                    let source = (try? String(contentsOfFile: "\(base).html", encoding: .utf8)) ?? ""
                    guard source.contains("dir=\"rtl\""), source.contains("lang=\"ar\"") else {
                        throw TemplateError(file: "\(base).html", "Arabic HTML needs dir=\"rtl\" and lang=\"ar\" on its root element")
                    }
                }
                entries["\(name)/\(language)"] = Entry(subject: subject, text: text, html: html)
            }
        }
        return MailTemplates(entries: entries, languages: languages)
    }

    private init(entries: [String: Entry], languages: [String]) {
        self.entries = entries
        self.languages = languages
    }

    private static func read(_ path: String, allowed: Set<String>) throws(TemplateError) -> Template {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TemplateError(file: path, "template file is missing")
        }
        let source: String
        do { source = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TemplateError(file: path, "cannot read as UTF-8: \(error.localizedDescription)")
        }
        var trimmed = source
        while trimmed.hasSuffix("\n") { trimmed.removeLast() }
        guard !trimmed.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw TemplateError(file: path, "template file is empty")
        }
        return try Template(source: path.hasSuffix(".subject") ? trimmed : trimmed + "\n", file: path, allowed: allowed)
    }

    public func render(_ name: String, language: String, values: [String: String]) throws(TemplateError) -> RenderedMail {
        guard let entry = entries["\(name)/\(language)"] else {
            throw TemplateError(file: "\(name)/\(language)", "no such template loaded (names: \(names.joined(separator: ", ")); languages: \(languages.joined(separator: ", ")))")
        }
        let subject = try entry.subject.render(values) { value in
            guard value.utf8.contains(where: { $0 == 13 || $0 == 10 }) else { return value }
            return String(decoding: value.utf8.map { $0 == 13 || $0 == 10 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        }
        let text = try entry.text.render(values) { $0 }
        let html = try entry.html.render(values, escape: Self.escapeHTML)
        return RenderedMail(subject: subject, text: text, html: html)
    }

    static func escapeHTML(_ value: String) -> String {
        // Over UTF-8 bytes: the five characters escaped are ASCII, so a byte never splits one
        // (Character by Character, this was a tenth of the notifier's instructions).
        func special(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
                || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
        }
        guard value.utf8.contains(where: special) else { return value }
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 32)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): out.append(contentsOf: "&#39;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
