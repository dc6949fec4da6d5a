import Foundation
import Testing
@testable import Mail

@Suite struct AutoReplyTests {
    func reason(_ text: String, sender: String? = "someone@example.ma") throws -> String? {
        AutoReplyDetector.reason(try InboundFixtures.message(text).headers, envelopeSender: sender)
    }

    @Test func fixturesOfAutomaticReplies() throws {
        let ooo = try InboundFixtures.parse("auto-reply-ooo.eml")
        #expect(AutoReplyDetector.reason(ooo.headers, envelopeSender: "bureau.anfa@casablanca.ma") == "auto-submitted=auto-replied")
        let vacation = try InboundFixtures.parse("auto-reply-vacation.eml")
        #expect(AutoReplyDetector.reason(vacation.headers, envelopeSender: "someone@example.ma") == "x-autoreply")
    }

    @Test func headersAndSendersOfProgramsAreRecognised() throws {
        #expect(try reason("Auto-Submitted: no\nSubject: Re: x\n\nbody") == nil)
        #expect(try reason("Auto-Submitted: auto-generated; owner-email=x@y\n\nb") == "auto-submitted=auto-generated")
        #expect(try reason("Precedence: bulk\n\nb") == "precedence=bulk")
        #expect(try reason("Precedence: auto_reply\n\nb") == "precedence=auto_reply")
        #expect(try reason("List-Id: <annonces.example.ma>\n\nb") == "mailing-list")
        #expect(try reason("Subject: x\n\nb", sender: "") == "null-sender")
        #expect(try reason("Subject: x\n\nb", sender: "<>") == "null-sender")
        #expect(try reason("From: MAILER-DAEMON@mx.example.ma\n\nb", sender: nil) == "mailer-daemon")
        #expect(try reason("Subject: x\n\nb", sender: "postmaster@example.ma") == "mailer-daemon")
        #expect(try reason("Subject: Réponse automatique : absent\n\nb") == "subject=out-of-office")
        #expect(try reason("Subject: =?UTF-8?B?2LHYryDYqtmE2YLYp9im2Yo6INi02YPYp9mK2Kk=?=\n\nb") == "subject=out-of-office")
        #expect(try reason("Subject: Automatic reply: complaint\n\nb") == "subject=out-of-office")
        #expect(try reason("Subject: Re: Absence d'éclairage rue 5\n\nrésolu") == nil)
        #expect(try reason("Subject: Re: CC-2026-000042\n\nrésolu") == nil)
    }
}
