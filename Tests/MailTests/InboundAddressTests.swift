import Foundation
import Testing
@testable import Mail

@Suite struct InboundAddressTests {
    let current = Array("current-secret-0123456789abcdef".utf8)
    let old = Array("previous-secret-0123456789abcdef".utf8)

    func addressing(_ secret: [UInt8], previous: [UInt8]? = nil, delimiter: String = "+") throws -> InboundAddressing {
        InboundAddressing(secret: try InboundSecret(current: secret, previous: previous), domain: "Inbound.Casablanca.ma",
                          delimiter: delimiter)
    }

    @Test func signedAddressesVerifyAndSurviveCaseFolding() throws {
        let signer = try addressing(current)
        let reply = signer.address(.reply, value: "CC-2026-000042")
        #expect(reply.hasPrefix("reply+CC-2026-000042-"))
        #expect(reply.hasSuffix("@inbound.casablanca.ma"))
        #expect(signer.verify(reply) == .valid(.reply, value: "CC-2026-000042", previousSecret: false))
        #expect(signer.verify(reply.lowercased()) == .valid(.reply, value: "CC-2026-000042", previousSecret: false))
        #expect(signer.verify("<\(reply.uppercased())>") == .valid(.reply, value: "CC-2026-000042", previousSecret: false))
        let bounce = signer.address(.bounce, value: "1042")
        #expect(signer.verify(bounce) == .valid(.bounce, value: "1042", previousSecret: false))
        #expect(bounce.split(separator: "@")[0].count <= 64)
    }

    @Test func forgeriesAndAlterationsAreRefused() throws {
        let signer = try addressing(current)
        let bounce = signer.address(.bounce, value: "1042")
        // Another notification with the same tag.
        #expect(signer.verify(bounce.replacingOccurrences(of: "+1042-", with: "+1043-")) == .invalid(.bounce, reason: "tag does not match"))
        // A tag for a bounce is no tag for an unsubscribe.
        #expect(signer.verify(bounce.replacingOccurrences(of: "bounces+", with: "unsubscribe+")) == .invalid(.unsubscribe, reason: "tag does not match"))
        // One character of the tag changed.
        var altered = Array(bounce)
        let at = altered.firstIndex(of: "@")!
        altered[at - 1] = altered[at - 1] == "a" ? "b" : "a"
        #expect(signer.verify(String(altered)) == .invalid(.bounce, reason: "tag does not match"))
        // Signed by somebody else's secret.
        let stranger = try addressing(Array("some-other-secret-0123456789".utf8))
        #expect(signer.verify(stranger.address(.reply, value: "CC-2026-000042")) == .invalid(.reply, reason: "tag does not match"))
        #expect(signer.verify("bounces+1042@inbound.casablanca.ma") == .invalid(.bounce, reason: "no tag"))
        #expect(signer.verify("bounces+12a-zzzz@inbound.casablanca.ma") == .invalid(.bounce, reason: "malformed value"))
        #expect(signer.verify("bureau@inbound.casablanca.ma") == .none)
        #expect(signer.verify(bounce.replacingOccurrences(of: "inbound.casablanca.ma", with: "example.ma")) == .none)
    }

    @Test func rotationAcceptsThePreviousSecretUntilItIsDropped() throws {
        let before = try addressing(old)
        let issued = before.address(.unsubscribe, value: "77")
        let rotating = try addressing(current, previous: old)
        #expect(rotating.verify(issued) == .valid(.unsubscribe, value: "77", previousSecret: true))
        #expect(rotating.verify(rotating.address(.unsubscribe, value: "77")) == .valid(.unsubscribe, value: "77", previousSecret: false))
        // Rotation over: the old secret is no longer configured, its addresses expire.
        let after = try addressing(current)
        #expect(after.verify(issued) == .invalid(.unsubscribe, reason: "tag does not match"))
    }

    @Test func theDelimiterIsConfigurable() throws {
        let signer = try addressing(current, delimiter: "-")
        let address = signer.address(.reply, value: "CC-2026-000042")
        #expect(address.hasPrefix("reply-CC-2026-000042-"))
        #expect(signer.verify(address) == .valid(.reply, value: "CC-2026-000042", previousSecret: false))
    }

    @Test func knownAnswerForTheTag() throws {
        // printf 'chikaya-inbound-v1\0reply\0CC-1' | openssl dgst -sha256 -hmac key-of-sixteen-octets
        // gives 2d251e6edc29ea79d088...; its first 10 octets in lower-case base32 (RFC 4648):
        let tag = InboundAddressing.tag(.reply, "CC-1", key: Array("key-of-sixteen-octets".utf8))
        #expect(tag == Self.expectedTag)
        #expect(tag.count == 16)
    }

    static let expectedTag = "fusr43w4fhvhtuei"

    @Test func secretFilesAreReadTrimmedAndChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chikaya-secret-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("secret").path
        let short = directory.appendingPathComponent("short").path
        try Data("0123456789abcdef0123\n".utf8).write(to: URL(fileURLWithPath: good))
        try Data("tiny\n".utf8).write(to: URL(fileURLWithPath: short))
        let secret = try InboundSecret.load(path: good, previousPath: nil)
        #expect(secret.current == Array("0123456789abcdef0123".utf8))
        #expect(throws: MailConfigurationError.self) { try InboundSecret.load(path: short, previousPath: nil) }
        #expect(throws: MailConfigurationError.self) { try InboundSecret.load(path: good, previousPath: directory.appendingPathComponent("none").path) }
    }
}
