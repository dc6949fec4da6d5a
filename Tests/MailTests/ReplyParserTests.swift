import Testing
@testable import Mail

@Suite struct ReplyParserTests {
    func parse(_ lines: [String]) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        return try lines.compactMap { try parser.feed(Array($0.utf8)) }
    }

    @Test func multiLineReplyIsOneReply() throws {
        let replies = try parse(["250-mail.example Hello", "250-PIPELINING", "250-SIZE 10240000", "250 8BITMIME"])
        #expect(replies.count == 1)
        #expect(replies[0].code == 250)
        #expect(replies[0].lines == ["mail.example Hello", "PIPELINING", "SIZE 10240000", "8BITMIME"])
        #expect(SMTPExtensions(ehloReply: replies[0]).sizeLimit == 10_240_000)
    }

    @Test func aReplyIsBoundedInLinesAndBytes() throws {
        let longest = Array(repeating: "250-x", count: SMTPReplyParser.maxLines - 1) + ["250 last"]
        #expect(try parse(longest).first?.lines.count == SMTPReplyParser.maxLines)
        #expect(throws: SMTPReplyParser.Malformed.self) {
            try parse(Array(repeating: "250-x", count: SMTPReplyParser.maxLines) + ["250 last"])
        }
        let wide = String(repeating: "y", count: 8_000)
        #expect(throws: SMTPReplyParser.Malformed.self) { try parse(Array(repeating: "250-" + wide, count: 9) + ["250 end"]) }
        // The count starts again with the next reply.
        var parser = SMTPReplyParser()
        for _ in 0..<3 {
            for line in longest { _ = try parser.feed(Array(line.utf8)) }
        }
    }

    @Test func bareCodeEndsTheReply() throws {
        #expect(try parse(["250-first", "250 "]).first?.lines == ["first", ""])
        #expect(try parse(["250-first", "250"]).first?.lines == ["first", ""])
    }

    @Test func enhancedCodeIsKeptWhenItsClassMatches() throws {
        let reply = try #require(try parse(["550 5.1.1 <x@y> user unknown"]).first)
        #expect(reply.enhancedCode == "5.1.1")
        #expect(reply.isPermanentNegative)
        #expect(try parse(["452 4.5.3 too many"]).first?.enhancedCode == "4.5.3")
        #expect(try parse(["250 2.0.0 Ok"]).first?.enhancedCode == "2.0.0")
        #expect(try parse(["550 4.1.1 wrong class"]).first?.enhancedCode == nil)
        #expect(try parse(["250 ok"]).first?.enhancedCode == nil)
    }

    @Test func codesThatChangeMidReplyAreRejected() {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) {
            _ = try parser.feed(Array("250-a".utf8))
            _ = try parser.feed(Array("251 b".utf8))
        }
    }

    @Test(arguments: ["hello", "25", "250x", "999 no", "abc def"])
    func malformedLinesAreRejected(line: String) {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) { _ = try parser.feed(Array(line.utf8)) }
    }

    @Test func permanenceFollowsTheReplyClass() {
        let permanent = SMTPError(.rejected, phase: "RCPT", reply: SMTPReply(code: 550, lines: ["no"]))
        let transient = SMTPError(.rejected, phase: "RCPT", reply: SMTPReply(code: 452, lines: ["later"]))
        #expect(permanent.isPermanent)
        #expect(!transient.isPermanent)
        #expect(SMTPError(.invalidAddress, phase: "RCPT").isPermanent)
        #expect(SMTPError(.needsSMTPUTF8, phase: "MAIL").isPermanent)
        #expect(!SMTPError(.timeout, phase: "DATA").isPermanent)
        #expect(!SMTPError(.connectionClosed, phase: "end of data").isPermanent)
        #expect(permanent.description.contains("550 no"))
    }
}
