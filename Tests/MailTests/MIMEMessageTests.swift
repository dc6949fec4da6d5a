import Foundation
import Testing
@testable import Mail

@Suite struct MIMEMessageTests {
    let arabicSubject = String(repeating: "شكايتكم رقم ", count: 17).prefix(200).description

    func message(subject: String, text: String = "Bonjour", html: String? = "<p>Bonjour</p>") -> MIMEMessage {
        MIMEMessage(from: MailboxAddress("notifications@casablanca.ma", name: "Ville de Casablanca"),
                    to: [MailboxAddress("citizen@example.ma", name: "مواطن من الدار البيضاء")],
                    subject: subject, textBody: text, htmlBody: html, language: "ar", messageIDDomain: "casablanca.ma")
    }

    func render(_ message: MIMEMessage) throws -> String {
        String(decoding: try message.render(date: Date(timeIntervalSince1970: 1_709_647_389)), as: UTF8.self)
    }

    @Test func arabicSubjectSplitsIntoShortWholeCharacterWords() throws {
        #expect(arabicSubject.count == 200)
        let words = EncodedWord.encode(arabicSubject)
        #expect(words.count > 5)
        for word in words {
            #expect(word.count <= 75)
            let payload = String(word.dropFirst(10).dropLast(2))
            let bytes = try #require(Data(base64Encoded: payload))
            // Each word must decode on its own: no UTF-8 sequence cut across two words.
            #expect(String(data: bytes, encoding: .utf8) != nil)
        }
        #expect(MIMEDecoding.decodeWords(words.joined(separator: " ")) == arabicSubject)
    }

    @Test func combiningMarksStayWithTheirLetter() {
        let voweled = String(repeating: "مَدِينَةُ ", count: 20)
        let words = EncodedWord.encode(voweled)
        for word in words {
            let text = MIMEDecoding.decodeWords(word)
            #expect(text.unicodeScalars.first.map { !(0x064B...0x0652).contains($0.value) } ?? true)
        }
        #expect(MIMEDecoding.decodeWords(words.joined(separator: " ")) == voweled)
    }

    @Test func headersAreFoldedUnder78AndDecodeBack() throws {
        let rendered = try render(message(subject: arabicSubject))
        let head = rendered.components(separatedBy: "\r\n\r\n")[0]
        for line in head.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "too long: \(line)")
        }
        let headers = MIMEDecoding.headers(rendered)
        #expect(MIMEDecoding.decodeWords(try #require(headers["subject"])) == arabicSubject)
        #expect(headers["date"] == "Tue, 05 Mar 2024 14:03:09 +0000")
        #expect(headers["auto-submitted"] == "auto-generated")
        #expect(headers["content-language"] == "ar")
        #expect(try #require(headers["to"]).hasSuffix("<citizen@example.ma>"))
        #expect(try #require(headers["message-id"]).hasSuffix("@casablanca.ma>"))
    }

    @Test func longASCIISubjectIsFoldedAtSpaces() throws {
        let subject = (1...40).map { "word\($0)" }.joined(separator: " ")
        let rendered = try render(message(subject: subject))
        let headers = MIMEDecoding.headers(rendered)
        #expect(headers["subject"] == subject)
        #expect(rendered.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 || !$0.contains("word") })
    }

    /// Fuzz finding (scripts/fuzz mime, seed Tests/Fuzz/mime/seeds/tab-only): a subject of one
    /// TAB was written as "Subject: <TAB>", a header of white space alone.
    @Test(arguments: ["\t", " \t  ", ""])
    func whiteSpaceOnlySubjectIsAnEmptySubject(subject: String) throws {
        let rendered = try render(message(subject: subject))
        let head = rendered.components(separatedBy: "\r\n\r\n")[0]
        #expect(head.components(separatedBy: "\r\n").contains("Subject:"))
        #expect(MIMEDecoding.headers(rendered)["subject"] == "")
    }

    /// Tabs are folding white space like spaces: a TAB between two long words used to stay a
    /// token of its own and was folded onto a continuation line of nothing but white space
    /// (RFC 5322 §4.2 obsolete syntax; blank, and so the end of the header, once trimmed).
    @Test func tabsFoldLikeSpacesAndNeverLeaveAWhiteSpaceLine() throws {
        let long = (String(repeating: "x", count: 70), String(repeating: "y", count: 70))
        var tabbed = message(subject: long.0 + " \t " + long.1)
        tabbed.from.name = "Ville\tde \t Casablanca"
        let rendered = try render(tabbed)
        let head = rendered.components(separatedBy: "\r\n\r\n")[0]
        for line in head.components(separatedBy: "\r\n") {
            #expect(line.contains { $0 != " " && $0 != "\t" }, "a white-space-only line in \(head)")
        }
        let headers = MIMEDecoding.headers(rendered)
        #expect(headers["subject"] == long.0 + " " + long.1)
        #expect(headers["from"] == "Ville de Casablanca <notifications@casablanca.ma>")
    }

    @Test func aWordBeyond998OctetsIsRefused() {
        #expect(throws: MIMEError.headerTooLong(field: "Subject")) {
            _ = try render(message(subject: String(repeating: "x", count: 1200)))
        }
    }

    @Test(arguments: ["Subject\r\nBcc: victim@example.com", "line\nfeed", "carriage\rreturn"])
    func lineBreaksInHeadersAreRefused(value: String) {
        #expect(throws: MIMEError.headerInjection(field: "Subject")) { _ = try render(message(subject: value)) }
        var named = message(subject: "ok")
        named.from.name = value
        #expect(throws: MIMEError.headerInjection(field: "From")) { _ = try render(named) }
        var threaded = message(subject: "ok")
        threaded.inReplyTo = "<a@b>\r\nBcc: x@y"
        #expect(throws: MIMEError.headerInjection(field: "In-Reply-To")) { _ = try render(threaded) }
    }

    @Test func invalidRecipientIsRefused() {
        var bad = message(subject: "ok")
        bad.to = [MailboxAddress("not an address")]
        #expect(throws: MIMEError.self) { _ = try render(bad) }
    }

    @Test func arabicBodyIsBase64InShortLinesAndDecodesBack() throws {
        let text = String(repeating: "تمت إحالة شكايتكم إلى مصلحة الإنارة العمومية. ", count: 30)
        let html = "<html lang=\"ar\" dir=\"rtl\"><body><p>\(text)</p></body></html>"
        let rendered = try render(message(subject: "s", text: text, html: html))
        #expect(rendered.utf8.allSatisfy { $0 < 128 })
        let parts = rendered.components(separatedBy: "\r\n\r\n")
        #expect(rendered.contains("Content-Type: multipart/alternative"))
        let plainIndex = try #require(rendered.range(of: "text/plain"))
        let htmlIndex = try #require(rendered.range(of: "text/html"))
        #expect(plainIndex.lowerBound < htmlIndex.lowerBound)
        let textBody = parts[2].components(separatedBy: "\r\n--")[0]
        #expect(textBody.components(separatedBy: "\r\n").allSatisfy { $0.count <= 76 })
        #expect(MIMEDecoding.decodeBase64(textBody) == text)
    }

    @Test func quotedPrintableKeepsLinesWithin76AndDecodesBack() {
        let text = "Votre réclamation a été transmise au service « Éclairage public » qui va l'examiner très rapidement, = merci.   \nDeuxième ligne."
        let encoded = BodyEncoding.quotedPrintable(text)
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
            #expect(!line.hasSuffix(" "))
        }
        #expect(MIMEDecoding.decodeQuotedPrintable(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
        #expect(BodyEncoding.choose(for: text) == .quotedPrintable)
        #expect(BodyEncoding.choose(for: "مرحبا بكم في شكاية") == .base64)
        #expect(BodyEncoding.choose(for: "plain ascii") == .sevenBit)
    }

    @Test func base64LinesAre76() {
        let encoded = BodyEncoding.base64(Array(repeating: 0xD8, count: 500))
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.dropLast().allSatisfy { $0.count == 76 })
        #expect(lines.last!.count <= 76)
    }

    @Test func base64WriterMatchesFoundationAtEveryLength() {
        // Every padding case and a line break landing on the last group or just before it.
        for count in [0, 1, 2, 3, 4, 5, 56, 57, 58, 59, 113, 114, 115, 171, 500] {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let expected = Data(bytes).base64EncodedString(options: .lineLength76Characters)
                .replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
            #expect(BodyEncoding.base64(bytes) == expected, "\(count) octets")
            var oneLine: [UInt8] = []
            Base64Writer.append(bytes, to: &oneLine)
            #expect(String(decoding: oneLine, as: UTF8.self) == Data(bytes).base64EncodedString(), "\(count) octets")
        }
    }

    @Test func randomMessageIDsAreVersion4UUIDs() {
        let id = MIMEMessage.randomUUID()
        #expect(UUID(uuidString: id) != nil)
        #expect(id == id.lowercased())
        let digits = Array(id.utf8)
        #expect(digits[14] == UInt8(ascii: "4"))
        #expect([UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(digits[19]))
        #expect(MIMEMessage.randomUUID() != id)
    }

    @Test func messageIDIsUniqueAndStable() throws {
        let a = message(subject: "a")
        let b = message(subject: "a")
        #expect(a.messageID != b.messageID)
        #expect(MIMEDecoding.headers(try render(a))["message-id"] == a.messageID)
        #expect(MIMEDecoding.headers(try render(a))["message-id"] == a.messageID)
    }

    @Test func threadingAndUnsubscribeHeaders() throws {
        var reply = message(subject: "suite")
        reply.inReplyTo = "<first@casablanca.ma>"
        reply.references = ["<first@casablanca.ma>", "<second@casablanca.ma>"]
        reply.listUnsubscribe = "https://chikaya.example/unsubscribe/abc"
        reply.replyTo = MailboxAddress("eclairage@casablanca.ma", name: "Éclairage public")
        let headers = MIMEDecoding.headers(try render(reply))
        #expect(headers["in-reply-to"] == "<first@casablanca.ma>")
        #expect(headers["references"] == "<first@casablanca.ma> <second@casablanca.ma>")
        #expect(headers["list-unsubscribe"] == "<https://chikaya.example/unsubscribe/abc>")
        #expect(try #require(headers["reply-to"]).hasSuffix("<eclairage@casablanca.ma>"))
    }
}
