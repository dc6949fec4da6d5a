import Foundation
@testable import Mail

/// The hand-written messages of Tests/Fixtures/mail (see its README for where each shape comes from).
enum InboundFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/mail")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func parse(_ name: String) throws -> MIMEPart {
        try MIMEParser().parse(bytes(name))
    }

    static func message(_ text: String) throws -> MIMEPart {
        try MIMEParser().parse(Array(text.utf8))
    }
}
