import Foundation
import Testing
@testable import Mail

/// Against real servers started by scripts/lib/smtp-peers.sh; skipped when its variables are absent.
@Suite(.serialized) struct RealServerIntegrationTests {
    static let environment = ProcessInfo.processInfo.environment
    static let aiosmtpd = environment["CHIKAYA_TEST_AIOSMTPD_URL"]
    static let sink = environment["CHIKAYA_TEST_SINK_URL"]

    @Test(.enabled(if: aiosmtpd != nil, "needs scripts/lib/smtp-peers.sh"))
    func aiosmtpdOverSTARTTLSWithAuthReceivesArabicExactly() throws {
        let env = Self.environment
        let configuration = try SMTPConfiguration(url: try #require(Self.aiosmtpd), caFile: env["CHIKAYA_TEST_AIOSMTPD_CA"])
        let connection = try SMTPConnection(configuration: configuration, tls: TLSContext(caFile: configuration.caFile))
        defer { connection.close() }
        #expect(connection.isEncrypted)

        let subject = "تمت إحالة شكايتكم رقم CAS-2024-000123 إلى مصلحة الإنارة العمومية بعمالة مقاطعات الدار البيضاء أنفا، وسنوافيكم بكل جديد في أقرب الآجال الممكنة"
        let text = "السلام عليكم،\n\nتمت إحالة شكايتكم إلى مصلحة «الإنارة العمومية».\nسطر يبدأ بنقطة:\n.نقطة\n"
        let html = "<html lang=\"ar\" dir=\"rtl\"><body><p>تمت إحالة شكايتكم</p></body></html>\n"
        let message = MIMEMessage(from: MailboxAddress("notifications@casablanca.ma", name: "جماعة الدار البيضاء"),
                                  to: [MailboxAddress("citizen@example.ma")], subject: subject, textBody: text,
                                  htmlBody: html, language: "ar", messageIDDomain: "casablanca.ma")
        let maildir = try #require(env["CHIKAYA_TEST_AIOSMTPD_MAILDIR"])
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: maildir)) ?? [])
        let reply = try connection.send(message.envelope, data: message.render(date: Date()))
        #expect(reply.code == 250)

        let added = try FileManager.default.contentsOfDirectory(atPath: maildir).filter { !before.contains($0) && $0.hasSuffix(".eml") }
        let file = try #require(added.sorted().last)
        let decoded = try Self.decodeWithPython(maildir + "/" + file)
        #expect(decoded["subject"] as? String == subject)
        #expect(decoded["text"] as? String == text)
        #expect(decoded["html"] as? String == html)
        #expect((decoded["from"] as? String)?.contains("جماعة الدار البيضاء") == true)
        #expect((decoded["defects"] as? [String]) == [])
    }

    @Test(.enabled(if: aiosmtpd != nil, "needs scripts/lib/smtp-peers.sh"))
    func untrustedCertificateIsRefused() throws {
        let configuration = try SMTPConfiguration(url: try #require(Self.aiosmtpd), caFile: nil)
        let error = try #require(throws: SMTPError.self) {
            _ = try SMTPConnection(configuration: configuration, tls: TLSContext(caFile: nil))
        }
        #expect(error.kind == .tls)
        #expect(!error.description.contains("test-secret"))
    }

    @Test(.enabled(if: aiosmtpd != nil, "needs scripts/lib/smtp-peers.sh"))
    func wrongPasswordIsAnAuthenticationError() throws {
        let url = try #require(Self.aiosmtpd).replacingOccurrences(of: "test-secret", with: "wrong-secret")
        let configuration = try SMTPConfiguration(url: url, caFile: Self.environment["CHIKAYA_TEST_AIOSMTPD_CA"])
        let error = try #require(throws: SMTPError.self) {
            _ = try SMTPConnection(configuration: configuration, tls: TLSContext(caFile: configuration.caFile))
        }
        #expect(error.kind == .authentication)
        #expect(error.reply?.code == 535)
        #expect(!error.description.contains("wrong-secret"))
    }

    @Test(.enabled(if: sink != nil, "needs scripts/lib/smtp-peers.sh"))
    func smtpSinkTakesManyPipelinedMessagesOverOneConnection() throws {
        let configuration = try SMTPConfiguration(url: try #require(Self.sink), caFile: nil)
        let connection = try SMTPConnection(configuration: configuration, tls: TLSContext(caFile: nil))
        defer { connection.close() }
        #expect(connection.extensions.offers("PIPELINING"))
        for number in 1...50 {
            let message = MIMEMessage(from: MailboxAddress("notifications@casablanca.ma"),
                                      to: [MailboxAddress("citizen\(number)@example.ma")],
                                      subject: "Réclamation \(number)", textBody: "Bonjour \(number)",
                                      htmlBody: "<p>Bonjour</p>", language: "fr", messageIDDomain: "casablanca.ma")
            #expect(try connection.send(message.envelope, data: message.render(date: Date())).code == 250)
        }
        #expect(connection.isUsable)
    }

    static func decodeWithPython(_ file: String) throws -> [String: Any] {
        let python = try #require(environment["CHIKAYA_TEST_PYTHON"])
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/peers/decode_message.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, file]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
