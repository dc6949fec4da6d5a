import Foundation
import Testing
@testable import Mail

@Suite struct MIMEParserTests {
    @Test func crlfLfAndCrLineEndsParseAlike() throws {
        let lf = "From: a@b.ma\nSubject: Salam\nContent-Type: text/plain; charset=utf-8\n\nligne 1\nligne 2\n"
        for text in [lf, lf.replacingOccurrences(of: "\n", with: "\r\n"), lf.replacingOccurrences(of: "\n", with: "\r")] {
            let message = try InboundFixtures.message(text)
            #expect(message.headers["subject"] == "Salam")
            #expect(message.bodyText == "ligne 1\nligne 2\n")
        }
    }

    @Test func foldedHeadersAreJoinedAndEncodedWordsDecoded() throws {
        let message = try InboundFixtures.message("""
            Subject: =?UTF-8?B?2LTZg9in2YrYqQ==?=
             =?UTF-8?Q?_r=C3=A9clamation?= suite
            From: =?iso-8859-1?q?Andr=E9?= <andre@example.ma>
            X-Split: =?utf-8?B?w6k=?= =?utf-8?B?w6k=?=

            body
            """)
        #expect(message.headers.decoded("Subject") == "شكاية réclamation suite")
        #expect(message.headers.decoded("From") == "André <andre@example.ma>")
        #expect(message.headers.decoded("X-Split") == "éé")
    }

    @Test func encodedWordsCutInsideAUTF8SequenceAreJoined() {
        // "é" is C3 A9; a sloppy encoder put each octet in its own word.
        #expect(EncodedWordDecoder.decode("=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?=") == "café")
        #expect(EncodedWordDecoder.decode("plain =?bogus") == "plain =?bogus")
        #expect(EncodedWordDecoder.decode("=?windows-1256?B?0c86IA==?=CC") == "رد: CC")
    }

    @Test func legacyCharsetsDecode() {
        #expect(Charset(name: "ISO-8859-15")?.decode([0xA4, 0x20, 0xE9, 0xBD]) == "€ éœ")
        #expect(Charset(name: "iso-8859-1")?.decode([0xA4, 0xE9]) == "¤é")
        #expect(Charset(name: "Windows-1252")?.decode([0x93, 0x80, 0x94, 0x96]) == "“€”–")
        // "سلام" in windows-1256 and ISO-8859-6.
        #expect(Charset(name: "windows-1256")?.decode([0xD3, 0xE1, 0xC7, 0xE3]) == "سلام")
        #expect(Charset(name: "ISO-8859-6")?.decode([0xD3, 0xE4, 0xC7, 0xE5]) == "سلام")
        #expect(Charset(name: "iso-8859-6")?.decode([0xAC, 0xBF, 0xFF]) == "،؟\u{FFFD}")
        #expect(Charset(name: "koi8-r") == nil)
        // No charset and invalid UTF-8: read as windows-1252 rather than lost.
        #expect(Charset.decodeGuessing([0x63, 0x61, 0x66, 0xE9], declared: nil) == "café")
        #expect(Charset.decodeGuessing([0x63, 0x61, 0x66, 0xE9], declared: "utf-8") == "café")
    }

    @Test func quotedPrintableAndBase64BodiesDecode() {
        let qp = MIMEParser.quotedPrintable(Array("caf=C3=A9 =\nsuite=3D=\nfin  \n=ZZ reste\n".utf8)[...])
        #expect(String(decoding: qp, as: UTF8.self) == "café suite=fin\n=ZZ reste\n")
        let b64 = MIMEParser.base64(Array("2LPZhNin\n2YU=\n".utf8)[...])
        #expect(String(decoding: b64, as: UTF8.self) == "سلام")
        // Missing padding and stray characters are tolerated (RFC 2045 §6.8).
        #expect(String(decoding: MIMEParser.base64(Array("w6k*".utf8)[...]), as: UTF8.self) == "é")
    }

    @Test func nestedMultipartsAndAttachedMessagesAreWalked() throws {
        let message = try InboundFixtures.message("""
            Content-Type: multipart/mixed; boundary=outer

            preamble
            --outer
            Content-Type: multipart/alternative; boundary="inner"

            --inner
            Content-Type: text/plain; charset=iso-8859-1
            Content-Transfer-Encoding: quoted-printable

            R=E9ponse
            --inner
            Content-Type: text/html

            <p>R&eacute;ponse</p>
            --inner--
            --outer
            Content-Type: message/rfc822

            Subject: forwarded
            Message-ID: <fw@example.ma>

            inner body
            --outer
            Content-Type: application/pdf; name*=utf-8''r%C3%A9clamation.pdf
            Content-Disposition: attachment
            Content-Transfer-Encoding: base64

            JVBERi0=
            --outer--
            epilogue
            """)
        #expect(message.parts.count == 3)
        #expect(message.parts[0].parts.count == 2)
        #expect(message.bodyText == "Réponse")
        #expect(message.parts[1].message?.headers["Message-ID"] == "<fw@example.ma>")
        #expect(message.parts[1].message?.bodyText == "inner body")
        #expect(message.parts[2].isAttachment)
        #expect(message.parts[2].contentType.parameters["name"] == "réclamation.pdf")
        #expect(message.parts[2].body == Array("%PDF-".utf8))
        #expect(message.allParts.count == 7)
    }

    @Test func htmlOnlyBodyBecomesText() throws {
        let message = try InboundFixtures.message("""
            Content-Type: text/html; charset=utf-8

            <html><head><title>x</title><style>p { color: red }</style></head><body>
            <p>Bonjour &amp; merci,</p><div>ligne&nbsp;deux<br>trois &#1587;&#x644;</div>
            <script>alert(1)</script>
            <blockquote><p>citation</p></blockquote><p>fin</p>
            </body></html>
            """)
        #expect(message.bodyText == "Bonjour & merci,\nligne deux\ntrois سل\n> citation\nfin")
    }

    @Test func boundsAreEnforced() throws {
        let small = MIMELimits(maxBytes: 100, maxDepth: 2, maxParts: 3)
        #expect(throws: MIMEParseError.tooLarge(bytes: 101, limit: 100)) {
            try MIMEParser(limits: small).parse(Array(repeating: 65, count: 101))
        }
        var nested = "Content-Type: text/plain\n\nx"
        for level in 0..<5 {
            nested = "Content-Type: multipart/mixed; boundary=b\(level)\n\n--b\(level)\n\(nested)\n--b\(level)--\n"
        }
        #expect(throws: MIMEParseError.tooDeep(limit: 2)) {
            try MIMEParser(limits: MIMELimits(maxDepth: 2)).parse(Array(nested.utf8))
        }
        let many = "Content-Type: multipart/mixed; boundary=b\n\n" + String(repeating: "--b\n\nx\n", count: 10) + "--b--\n"
        #expect(throws: MIMEParseError.tooManyParts(limit: 3)) {
            try MIMEParser(limits: MIMELimits(maxParts: 3)).parse(Array(many.utf8))
        }
        let headers = String(repeating: "X-A: b\n", count: 20) + "\nbody"
        #expect(throws: MIMEParseError.tooManyHeaderFields(limit: 10)) {
            try MIMEParser(limits: MIMELimits(maxHeaderFields: 10)).parse(Array(headers.utf8))
        }
        #expect(throws: MIMEParseError.empty) { try MIMEParser().parse(Array("\n\n".utf8)) }
    }

    @Test func defaultLimitsStopAHostileNestingWithoutCrashing() throws {
        // 10,000 levels of nesting in a few hundred kilobytes: refused at the depth limit.
        var text = ""
        for level in 0..<10_000 { text += "Content-Type: multipart/mixed; boundary=\(level)\n\n--\(level)\n" }
        #expect(throws: MIMEParseError.tooDeep(limit: 8)) { try MIMEParser().parse(Array(text.utf8)) }
    }

    @Test func whatWeSendParsesBack() throws {
        var outgoing = MIMEMessage(from: MailboxAddress("notifications@casablanca.ma", name: "Ville de Casablanca"),
                                   to: [MailboxAddress("citizen@example.ma", name: "مواطن")],
                                   subject: "شكايتكم رقم CC-2026-000042 — réclamation", textBody: "السلام عليكم\nتمت معالجة شكايتكم.",
                                   htmlBody: "<p>السلام عليكم</p>", language: "ar", messageIDDomain: "casablanca.ma")
        outgoing.replyTo = MailboxAddress("reply+CC-2026-000042-x@inbound.casablanca.ma")
        let parsed = try MIMEParser().parse(try outgoing.render(date: Date(timeIntervalSince1970: 1_709_647_389)))
        #expect(parsed.headers.decoded("Subject") == outgoing.subject)
        #expect(parsed.headers.decoded("To") == "مواطن <citizen@example.ma>")
        #expect(parsed.bodyText == "السلام عليكم\nتمت معالجة شكايتكم.")
        #expect(parsed.headers["Reply-To"] == "reply+CC-2026-000042-x@inbound.casablanca.ma")
    }
}
