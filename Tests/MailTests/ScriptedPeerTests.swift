import Foundation
import Testing
@testable import Mail

/// The client against scripted servers on loopback: the edge cases a real relay rarely shows on demand.
@Suite(.serialized) struct ScriptedPeerTests {
    static let tls: TLSContext? = try? TLSContext(caFile: nil)
    let envelope = Envelope(sender: "notifications@casablanca.ma", recipients: ["citizen@example.ma"])
    let body = Array("Subject: test\r\n\r\nHello\r\n.starts with a dot\r\n".utf8)

    static let ehlo = ScriptedPeer.Step.send("250-peer.test\r\n250-8BITMIME\r\n250 SIZE 100000")
    static let greeting = ScriptedPeer.Step.send("220 peer.test ESMTP")

    func connect(_ peer: ScriptedPeer) throws -> SMTPConnection {
        try SMTPConnection(configuration: SMTPConfiguration(url: peer.url, caFile: nil), tls: try #require(Self.tls))
    }

    static func transaction() -> [ScriptedPeer.Step] {
        [.expect("MAIL FROM:<notifications@casablanca.ma> SIZE="), .send("250 2.1.0 ok"),
         .expect("RCPT TO:<citizen@example.ma>"), .send("250 2.1.5 ok"),
         .expect("DATA"), .send("354 go ahead"), .readData, .send("250 2.0.0 queued as A1")]
    }

    @Test func multiLineGreetingThenDelivery() throws {
        let peer = try ScriptedPeer([.send("220-peer.test ESMTP\r\n220-second line\r\n220 third"), .expect("EHLO"), Self.ehlo]
                                    + Self.transaction() + [.expect("QUIT"), .send("221 bye")])
        let connection = try connect(peer)
        #expect(connection.greeting.lines.count == 3)
        let reply = try connection.send(envelope, data: body)
        #expect(reply.code == 250 && reply.enhancedCode == "2.0.0")
        #expect(connection.isUsable)
        connection.close()
        let seen = peer.finish()
        #expect(seen.messages == ["Subject: test\r\n\r\nHello\r\n..starts with a dot"])
        #expect(seen.commands.last == "QUIT")
    }

    @Test func reply421MidSessionMakesTheConnectionUnusable() throws {
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), Self.ehlo,
                                     .expect("MAIL"), .send("421 4.3.2 shutting down")])
        let connection = try connect(peer)
        let error = try #require(throws: SMTPError.self) { try connection.send(envelope, data: body) }
        #expect(error.reply?.code == 421)
        #expect(!error.isPermanent)
        #expect(!connection.isUsable)
        #expect(throws: SMTPError.self) { try connection.send(envelope, data: body) }
        _ = peer.finish()
    }

    @Test func dropAfterTheFinalDotIsTransientAndUnusable() throws {
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), Self.ehlo]
                                    + Self.transaction().dropLast() + [.drop])
        let connection = try connect(peer)
        let error = try #require(throws: SMTPError.self) { try connection.send(envelope, data: body) }
        #expect(error.kind == .connectionClosed)
        #expect(error.phase == "end of data")
        #expect(!error.isPermanent)
        #expect(!connection.isUsable)
        _ = peer.finish()
    }

    @Test func silentServerTimesOut() throws {
        let peer = try ScriptedPeer([.silence(1)])
        var configuration = try SMTPConfiguration(url: peer.url, caFile: nil)
        configuration.timeouts = SMTPTimeouts(all: 0.5)
        let started = Date()
        let error = try #require(throws: SMTPError.self) { _ = try SMTPConnection(configuration: configuration, tls: try #require(Self.tls)) }
        #expect(error.kind == .timeout)
        #expect(error.phase == "greeting")
        #expect(Date().timeIntervalSince(started) < 2)
        _ = peer.finish()
    }

    @Test func transient452OnRecipientThenSuccessOnRetry() throws {
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), Self.ehlo,
                                     .expect("MAIL"), .send("250 ok"), .expect("RCPT"), .send("452 4.2.2 mailbox full"),
                                     .expect("RSET"), .send("250 reset")]
                                    + Self.transaction() + [.expect("QUIT"), .send("221 bye")])
        let connection = try connect(peer)
        let error = try #require(throws: SMTPError.self) { try connection.send(envelope, data: body) }
        #expect(error.reply?.code == 452 && !error.isPermanent && error.phase == "RCPT")
        #expect(connection.isUsable)
        #expect(try connection.send(envelope, data: body).code == 250)
        connection.close()
        #expect(peer.finish().messages.count == 1)
    }

    @Test func reply550IsPermanentAndFollowedByRSET() throws {
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), Self.ehlo,
                                     .expect("MAIL"), .send("250 ok"), .expect("RCPT"), .send("550 5.1.1 no such user"),
                                     .expect("RSET"), .send("250 reset"), .expect("QUIT"), .send("221 bye")])
        let connection = try connect(peer)
        let error = try #require(throws: SMTPError.self) { try connection.send(envelope, data: body) }
        #expect(error.isPermanent)
        #expect(error.reply?.enhancedCode == "5.1.1")
        #expect(connection.isUsable)
        connection.close()
        #expect(peer.finish().commands.contains("RSET"))
    }

    @Test func ehlo502FallsBackToHELO() throws {
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), .send("502 5.5.1 EHLO not implemented"),
                                     .expect("HELO"), .send("250 peer.test"),
                                     .expect("MAIL FROM:<notifications@casablanca.ma>"), .send("250 ok"),
                                     .expect("RCPT"), .send("250 ok"), .expect("DATA"), .send("354 go"),
                                     .readData, .send("250 ok"), .expect("QUIT"), .send("221 bye")])
        let connection = try connect(peer)
        #expect(connection.extensions.names.isEmpty)
        #expect(try connection.send(envelope, data: body).code == 250)
        connection.close()
        let commands = peer.finish().commands
        #expect(commands.contains { $0.hasPrefix("HELO ") })
        #expect(commands.contains("MAIL FROM:<notifications@casablanca.ma>"))
    }

    @Test func pipeliningSendsMailRcptAndDataBeforeAnyReply() throws {
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), .send("250-peer.test\r\n250 PIPELINING"),
                                     .expect("MAIL"), .expect("RCPT"), .expect("DATA"),
                                     .send("250 ok\r\n250 ok\r\n354 go"), .readData, .send("250 ok"),
                                     .expect("QUIT"), .send("221 bye")])
        let connection = try connect(peer)
        #expect(try connection.send(envelope, data: body).code == 250)
        connection.close()
        #expect(peer.finish().messages.count == 1)
    }

    @Test func invalidAddressFailsPermanentlyWithoutTalking() throws {
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), Self.ehlo, .expect("QUIT"), .send("221 bye")])
        let connection = try connect(peer)
        let error = try #require(throws: SMTPError.self) {
            try connection.send(Envelope(sender: "a@b.ma", recipients: ["bad address@x"]), data: body)
        }
        #expect(error.kind == .invalidAddress && error.isPermanent)
        let utf8 = try #require(throws: SMTPError.self) {
            try connection.send(Envelope(sender: "a@b.ma", recipients: ["مواطن@example.ma"]), data: body)
        }
        #expect(utf8.kind == .needsSMTPUTF8 && utf8.isPermanent)
        #expect(connection.isUsable)
        connection.close()
        #expect(peer.finish().commands.count == 2)
    }

    static let pipelining = ScriptedPeer.Step.send("250-peer.test\r\n250 PIPELINING")

    @Test func groupSendsEachContentWithTheNextEnvelopeAndGoesOnAfterARefusal() throws {
        // The peer reads the second message's MAIL before it answers the first one's dot: the
        // client wrote them together. The second is refused (no 354, so RSET), the third goes.
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), Self.pipelining,
                                     .expect("MAIL"), .expect("RCPT"), .expect("DATA"), .send("250 ok\r\n250 ok\r\n354 go"),
                                     .readData, .expect("MAIL"), .expect("RCPT"), .expect("DATA"),
                                     .send("250 queued 1\r\n250 ok\r\n550 5.1.1 no such user\r\n554 no valid recipients"),
                                     .expect("RSET"), .send("250 ok"),
                                     .expect("MAIL"), .expect("RCPT"), .expect("DATA"), .send("250 ok\r\n250 ok\r\n354 go"),
                                     .readData, .send("250 queued 3"), .expect("QUIT"), .send("221 bye")])
        let connection = try connect(peer)
        let outcomes = connection.send(group: [(envelope, body), (envelope, body), (envelope, body)])
        guard outcomes.count == 3, case .accepted(let first) = outcomes[0], case .failed(let refused) = outcomes[1],
              case .accepted(let third) = outcomes[2] else {
            Issue.record("unexpected outcomes \(outcomes)")
            return
        }
        #expect(first.description.contains("queued 1") && third.description.contains("queued 3"))
        #expect(refused.phase == "RCPT" && refused.isPermanent)
        #expect(connection.isUsable)
        connection.close()
        #expect(peer.finish().messages.count == 2)
    }

    @Test func groupLeavesWhatFollowsABrokenSessionNotSent() throws {
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), Self.pipelining,
                                     .expect("MAIL"), .expect("RCPT"), .expect("DATA"), .send("250 ok\r\n250 ok\r\n354 go"),
                                     .readData, .expect("MAIL"), .expect("RCPT"), .expect("DATA"),
                                     .send("250 queued 1\r\n421 4.3.2 shutting down")])
        let connection = try connect(peer)
        let outcomes = connection.send(group: [(envelope, body), (envelope, body), (envelope, body)])
        guard outcomes.count == 3, case .accepted = outcomes[0], case .failed(let closing) = outcomes[1],
              case .notSent = outcomes[2] else {
            Issue.record("unexpected outcomes \(outcomes)")
            return
        }
        #expect(closing.reply?.code == 421 && !closing.isPermanent)
        #expect(!connection.isUsable)
        #expect(peer.finish().messages.count == 1)
    }

    @Test func groupWithinABudgetCutsTheTimeouts() throws {
        // The phase timeout is 10 s; the group's budget of 0.5 s ends the wait for the final reply.
        let peer = try ScriptedPeer([Self.greeting, .expect("EHLO"), Self.pipelining,
                                     .expect("MAIL"), .expect("RCPT"), .expect("DATA"), .send("250 ok\r\n250 ok\r\n354 go"),
                                     .readData, .silence(12)])
        let connection = try SMTPConnection(configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(peer.port)?tls=none&timeout=10",
                                                                             caFile: nil),
                                            tls: try #require(Self.tls))
        let started = ContinuousClock.now
        let outcomes = connection.send(group: [(envelope, body), (envelope, body)], within: 0.5)
        #expect(ContinuousClock.now - started < .seconds(8))
        guard case .failed(let error) = outcomes[0], case .notSent = outcomes[1] else {
            Issue.record("unexpected outcomes \(outcomes)")
            return
        }
        #expect(error.kind == .timeout && error.phase == "end of data")
        #expect(error.detail.contains("may or may not have been delivered"))
    }
}

/// The per-phase timings a connection reports to its observer (for the notifier's metrics).
@Suite(.serialized) struct SMTPPhaseTimingTests {
    final class Phases: @unchecked Sendable {
        // @unchecked: the connection calls the observer on the test's own thread only.
        var names: [String] = []
        var seconds: [Double] = []
    }

    @Test func everyPhaseThatEndsWellIsTimedInOrder() throws {
        let peer = try ScriptedPeer([ScriptedPeerTests.greeting, .expect("EHLO"), ScriptedPeerTests.ehlo]
                                    + ScriptedPeerTests.transaction()
                                    + [.expect("MAIL"), .send("550 5.7.1 refused"), .expect("RSET"), .send("250 ok"),
                                       .expect("QUIT"), .send("221 bye")])
        let phases = Phases()
        let connection = try SMTPConnection(configuration: SMTPConfiguration(url: peer.url, caFile: nil),
                                            tls: try #require(ScriptedPeerTests.tls)) { name, seconds in
            phases.names.append(name)
            phases.seconds.append(seconds)
        }
        let envelope = Envelope(sender: "notifications@casablanca.ma", recipients: ["citizen@example.ma"])
        try connection.send(envelope, data: Array("Subject: t\r\n\r\nHello\r\n".utf8))
        // A refused message: its envelope phase did not end well and is not timed.
        #expect(throws: SMTPError.self) { try connection.send(envelope, data: Array("Subject: t\r\n\r\nAgain\r\n".utf8)) }
        connection.close()
        _ = peer.finish()
        #expect(phases.names == ["connect", "greeting", "ehlo", "envelope", "data"])
        #expect(phases.seconds.allSatisfy { $0 >= 0 && $0 < 60 })
    }
}
