import Foundation
import Testing
@testable import Mail

/// `SMTPConnection.reusing`, against scripted servers: a usable session is kept, a broken one
/// replaced.
@Suite(.serialized) struct SMTPConnectionReuseTests {
    let envelope = Envelope(sender: "notifications@casablanca.ma", recipients: ["citizen@example.ma"])
    let body = Array("Subject: test\r\n\r\nHello\r\n".utf8)

    @Test func aUsableSessionIsKeptAndABrokenOneReplaced() throws {
        let tls = try #require(ScriptedPeerTests.tls)
        let first = try ScriptedPeer([ScriptedPeerTests.greeting, .expect("EHLO"), ScriptedPeerTests.ehlo]
                                     + ScriptedPeerTests.transaction() + [.expect("MAIL"), .send("421 4.3.2 shutting down")])
        let second = try ScriptedPeer([ScriptedPeerTests.greeting, .expect("EHLO"), ScriptedPeerTests.ehlo]
                                      + ScriptedPeerTests.transaction() + [.expect("QUIT"), .send("221 bye")])
        let firstConfiguration = try SMTPConfiguration(url: first.url, caFile: nil)
        var kept: SMTPConnection?

        let opened = try SMTPConnection.reusing(&kept, configuration: firstConfiguration, tls: tls)
        #expect(!opened.reused)
        #expect(kept === opened.connection)
        #expect(try opened.connection.send(envelope, data: body).code == 250)

        let again = try SMTPConnection.reusing(&kept, configuration: firstConfiguration, tls: tls)
        #expect(again.reused)
        #expect(again.connection === opened.connection)
        #expect(throws: SMTPError.self) { try again.connection.send(envelope, data: body) }
        #expect(!again.connection.isUsable)

        let replaced = try SMTPConnection.reusing(&kept, configuration: SMTPConfiguration(url: second.url, caFile: nil), tls: tls)
        #expect(!replaced.reused)
        #expect(replaced.connection !== opened.connection)
        #expect(kept === replaced.connection)
        #expect(try replaced.connection.send(envelope, data: body).code == 250)
        kept?.close()
        _ = first.finish()
        #expect(second.finish().commands.last == "QUIT")
    }
}
