import Foundation
import Mail
import Testing
import TestSupport
@testable import ChikayaCore

/// The citizen's emails as the repository ships them: every template the renderer may be asked
/// for exists in both languages and fills in.
@Suite struct CitizenMailUnitTests {
    static let directory = ChikayaBinary.repositoryRoot().appendingPathComponent("config/templates").path

    let values = ["reference": "CAS-2024-000123", "department": "الإنارة العمومية", "status": "محالة",
                  "note": "", "tracking_url": "https://chikaya.example/suivi/CAS-2024-000123"]

    @Test func everyCitizenTemplateLoadsAndRendersInBothLanguages() throws {
        let templates = try MailTemplates.load(directory: Self.directory, templates: CitizenMailRenderer.templates)
        for name in CitizenMailRenderer.templates.keys {
            for language in ["ar", "fr"] {
                let mail = try templates.render(name, language: language, values: values)
                #expect(mail.subject.contains("CAS-2024-000123"))
                #expect(!mail.subject.contains("\n"))
                #expect(mail.text.contains("https://chikaya.example/suivi/CAS-2024-000123"))
                #expect(mail.html.contains("الإنارة العمومية"))
                #expect(!mail.text.contains("{{"))
            }
        }
        let arabic = try templates.render("assigned", language: "ar", values: values)
        #expect(arabic.html.contains("dir=\"rtl\"") && arabic.html.contains("lang=\"ar\""))
    }

    @Test func everyStatusWithATemplateHasWordsInBothLanguages() {
        for status in CitizenMailRenderer.templates.keys where status != "triage" {
            for language in MailTemplates.defaultLanguages {
                #expect(CitizenMailRenderer.statusWords[language]?[status] != nil, "\(language) \(status)")
            }
        }
    }
}
