import Foundation
import Testing
@testable import Mail

@Suite struct TemplateTests {
    /// config/templates of this repository, found from this file's path.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("config/templates").path

    let values = ["reference": "CAS-2024-000123", "department": "الإنارة العمومية", "status": "محالة",
                  "note": "", "tracking_url": "https://chikaya.example/suivi/CAS-2024-000123"]

    /// Two of the shipped citizen templates, to test the engine on real files (the whole list is
    /// the citizen mail's, tested with it in ChikayaCoreTests).
    static let shipped: [String: Set<String>] = Dictionary(uniqueKeysWithValues: ["assigned", "resolved"].map {
        ($0, ["reference", "department", "status", "note", "tracking_url"])
    })

    @Test func noteAppearsOnlyWhenGivenAndHTMLIsEscaped() throws {
        let templates = try MailTemplates.load(directory: Self.directory, templates: Self.shipped)
        let without = try templates.render("resolved", language: "fr", values: values)
        var noted = values
        noted["note"] = "Lampadaire <remplacé> & testé"
        let with = try templates.render("resolved", language: "fr", values: noted)
        #expect(!without.text.contains("Note du service"))
        #expect(with.text.contains("Lampadaire <remplacé> & testé"))
        #expect(with.html.contains("Lampadaire &lt;remplacé&gt; &amp; testé"))
    }

    @Test func missingValueIsAnError() throws {
        let templates = try MailTemplates.load(directory: Self.directory, templates: Self.shipped)
        var partial = values
        partial["reference"] = nil
        #expect(throws: TemplateError.self) { _ = try templates.render("assigned", language: "fr", values: partial) }
        #expect(throws: TemplateError.self) { _ = try templates.render("unknown", language: "fr", values: values) }
    }

    /// A directory of template files of its own; the caller removes it.
    func scratch(_ files: [String: String]) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("chikaya-templates-\(UUID().uuidString)").path
        for (path, content) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func missingFileIsALoadErrorNamingIt() throws {
        let root = try scratch(["x/fr.subject": "S {{a}}", "x/fr.txt": "T {{a}}"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let error = try #require(throws: TemplateError.self) {
            _ = try MailTemplates.load(directory: root, templates: ["x": ["a"]], languages: ["fr"])
        }
        #expect(error.file == root + "/x/fr.html")
    }

    @Test func unknownPlaceholderIsALoadErrorWithItsLine() throws {
        let root = try scratch(["x/fr.subject": "S", "x/fr.txt": "line one\n{{a}}\nthen {{typo}}", "x/fr.html": "<p>{{a}}</p>"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let error = try #require(throws: TemplateError.self) {
            _ = try MailTemplates.load(directory: root, templates: ["x": ["a"]], languages: ["fr"])
        }
        #expect(error.file.hasSuffix("x/fr.txt"))
        #expect(error.line == 3)
        #expect(error.description.contains("typo"))
    }

    @Test func arabicHTMLWithoutRTLIsRefused() throws {
        let root = try scratch(["x/ar.subject": "S", "x/ar.txt": "T", "x/ar.html": "<html><p>نص</p></html>"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: TemplateError.self) { _ = try MailTemplates.load(directory: root, templates: ["x": []], languages: ["ar"]) }
    }

    @Test func unclosedSectionIsRefused() throws {
        let root = try scratch(["x/fr.subject": "S", "x/fr.txt": "{{#a}} open", "x/fr.html": "h"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: TemplateError.self) { _ = try MailTemplates.load(directory: root, templates: ["x": ["a"]], languages: ["fr"]) }
    }
}
