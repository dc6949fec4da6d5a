import Foundation
import Testing
@testable import Mail

@Suite struct InboundReplyTests {
    func separated(_ name: String) throws -> SeparatedReply {
        QuotedTextSeparator.separate(try #require(try InboundFixtures.parse(name).bodyText))
    }

    @Test func gmailFrenchWrappedAttribution() throws {
        let reply = try separated("reply-gmail-fr.eml")
        #expect(reply.newText == "Résolu.\nL'équipe a ramassé les déchets ce matin.")
        #expect(reply.quoted?.hasPrefix("Le mar. 5 mars 2024 à 14:03") == true)
        #expect(ReplyCommandParser.parse(reply.newText) == .setStatus("resolved", note: "L'équipe a ramassé les déchets ce matin."))
    }

    @Test func outlookHeaderBlockInWindows1252() throws {
        let message = try InboundFixtures.parse("reply-outlook-fr.eml")
        #expect(message.headers.decoded("From") == "Service éclairage € <eclairage.maarif@casablanca.ma>")
        #expect(message.headers.decoded("Subject") == "RE: Réclamation – CC-2026-000043")
        let reply = QuotedTextSeparator.separate(try #require(message.bodyText))
        #expect(reply.newText == "rejeté : la rue relève de la préfecture voisine – voir avec eux.\n\nCordialement,\nLe service")
        #expect(ReplyCommandParser.parse(reply.newText)
                == .setStatus("rejected", note: "la rue relève de la préfecture voisine – voir avec eux\nCordialement,\nLe service"))
    }

    @Test func appleMailArabicInWindows1256() throws {
        let message = try InboundFixtures.parse("reply-apple-ar-1256.eml")
        #expect(message.headers.decoded("From") == "مكتب سيدي مومن <bureau.sidi-moumen@casablanca.ma>")
        #expect(message.headers.decoded("Subject") == "رد: CC-2026-000044")
        let reply = QuotedTextSeparator.separate(try #require(message.bodyText))
        #expect(reply.newText == "تم الحل\nتم إصلاح المصباح يوم الثلاثاء.")
        #expect(ReplyCommandParser.parse(reply.newText) == .setStatus("resolved", note: "تم إصلاح المصباح يوم الثلاثاء."))
    }

    @Test func thunderbirdArabicInISO88596() throws {
        let reply = try separated("reply-thunderbird-ar-iso88596.eml")
        #expect(reply.newText == "مرفوض: الشارع خارج نفوذ المقاطعة")
        #expect(reply.quoted?.contains("كتب Ville de Casablanca:") == true)
        #expect(ReplyCommandParser.parse(reply.newText) == .setStatus("rejected", note: "الشارع خارج نفوذ المقاطعة"))
    }

    @Test func attributionsOfTheUsualClients() {
        let cases: [(String, String)] = [
            ("ok\n\nOn Tue, Mar 5, 2024 at 2:03 PM Ville <n@c.ma> wrote:\n> x", "ok"),
            ("ok\nOn 5 Mar 2024, at 14:03, Ville <n@c.ma> wrote:\n\n> x", "ok"),
            ("ok\n\nOn 05/03/2024 14:03, Ville wrote:\n> x", "ok"),
            ("ok\nLe 05/03/2024 à 14:03, Ville a écrit :\n> x", "ok"),
            ("ok\n-----Original Message-----\nFrom: x", "ok"),
            ("ok\n-----Message d'origine-----\nDe : x", "ok"),
            ("ok\nFrom: Ville <n@c.ma>\nSent: Tuesday\nTo: bureau\nSubject: x\n\nbody", "ok"),
            ("ok\nمن: Ville <n@c.ma>\nأرسل: الثلاثاء\nإلى: مكتب\nالموضوع: شكاية\n\nbody", "ok"),
            ("ok\n\u{202B}في الثلاثاء، 5 مارس 2024 في 2:03 م تمت كتابة ما يلي بواسطة Ville <n@c.ma>:\u{202C}\n> x", "ok"),
            ("ok\n> quoted\nmore", "ok"),
            ("ok\n-- \nSignature\n", "ok"),
            ("no quote at all\nsecond line", "no quote at all\nsecond line"),
            // "wrote" in a sentence of the reply, not an attribution.
            ("On site, the team wrote a report.\nDone", "On site, the team wrote a report.\nDone"),
        ]
        for (text, expected) in cases {
            #expect(QuotedTextSeparator.separate(text).newText == expected, "\(text)")
        }
    }

    @Test func commandsInBothLanguages() {
        #expect(ReplyCommandParser.parse("en cours") == .setStatus("in_progress", note: nil))
        #expect(ReplyCommandParser.parse("EN COURS.\néquipe envoyée") == .setStatus("in_progress", note: "équipe envoyée"))
        #expect(ReplyCommandParser.parse("قيد المعالجة") == .setStatus("in_progress", note: nil))
        #expect(ReplyCommandParser.parse("Resolu") == .setStatus("resolved", note: nil))
        #expect(ReplyCommandParser.parse("تم الحل") == .setStatus("resolved", note: nil))
        #expect(ReplyCommandParser.parse("Rejeté: hors périmètre") == .setStatus("rejected", note: "hors périmètre"))
        #expect(ReplyCommandParser.parse("مرفوض: خارج الاختصاص") == .setStatus("rejected", note: "خارج الاختصاص"))
        #expect(ReplyCommandParser.parse("مَرْفُوض: خارج الاختصاص") == .setStatus("rejected", note: "خارج الاختصاص"))
        #expect(ReplyCommandParser.parse("rejeté") == .incomplete("a rejection needs its reason: rejeté: motif / مرفوض: السبب"))
        #expect(ReplyCommandParser.parse("réaffecter voirie\nc'est la chaussée") == .reassign("voirie", note: "c'est la chaussée"))
        #expect(ReplyCommandParser.parse("تحويل eclairage") == .reassign("eclairage", note: nil))
        if case .incomplete = ReplyCommandParser.parse("réaffecter") {} else { Issue.record("a move without department is incomplete") }
        #expect(ReplyCommandParser.parse("Résolution prévue demain") == .none("Résolution prévue demain"))
        #expect(ReplyCommandParser.parse("Merci pour l'information") == .none("Merci pour l'information"))
    }
}
