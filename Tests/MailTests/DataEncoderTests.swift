import Testing
@testable import Mail

@Suite struct DataEncoderTests {
    func encode(_ text: String) throws -> String {
        String(decoding: try SMTPDataEncoder.encode(Array(text.utf8)), as: UTF8.self)
    }

    @Test func leadingDotsAreDoubled() throws {
        #expect(try encode(".\r\n..x\r\nmid.dle\r\n.end") == "..\r\n...x\r\nmid.dle\r\n..end\r\n.\r\n")
    }

    @Test func bareLineEndsBecomeCRLF() throws {
        #expect(try encode("a\nb\rc\r\n") == "a\r\nb\r\nc\r\n.\r\n")
    }

    @Test func aDotAfterABareLineFeedIsStuffedToo() throws {
        #expect(try encode("a\n.\nb") == "a\r\n..\r\nb\r\n.\r\n")
    }

    @Test func linesOver998OctetsAreRefused() throws {
        #expect(try encode(String(repeating: "x", count: 998)).utf8.count == 998 + 2 + 3)
        #expect(throws: SMTPDataEncoder.LineTooLong.self) {
            _ = try SMTPDataEncoder.encode(Array(("ok\r\n" + String(repeating: "x", count: 999)).utf8))
        }
    }

    @Test func crBeforeALineFeedFurtherOnEndsTheLineThere() throws {
        #expect(try encode("a\rb\nc\r\r\nd") == "a\r\nb\r\nc\r\n\r\nd\r\n.\r\n")
        #expect(try encode("\n\r.\r\n") == "\r\n\r\n..\r\n.\r\n")
    }

    @Test func eightBitOctetsAreFoundAtAnyOffset() {
        for count in 0..<20 {
            let ascii = [UInt8](repeating: UInt8(ascii: "a"), count: count)
            #expect(!SMTPConnection.hasEightBitOctet(ascii))
            for position in 0..<count {
                var bytes = ascii
                bytes[position] = 0x80
                #expect(SMTPConnection.hasEightBitOctet(bytes), "\(count) octets, the 8-bit one at \(position)")
            }
        }
    }
}
