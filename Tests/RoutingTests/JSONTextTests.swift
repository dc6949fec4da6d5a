import Foundation
import Routing
import Testing

/// JSONText.quote against Foundation's own JSON reader: plain texts take the fast path, texts
/// with quotes, backslashes or control characters the escaping one; both must read back equal.
struct JSONTextTests {
    @Test func quotedTextsReadBackEqualWithAndWithoutEscapes() throws {
        let samples = [
            "", "plain", "éclairage public", "انقطاع الماء", "emoji 🚮",
            "say \"hi\"", "back\\slash", "line\nbreak\r\ttab", "bell\u{7} and \u{1F}", "mixed \" \\ \n é",
        ]
        for sample in samples {
            let quoted = JSONText.quote(sample)
            let decoded = try JSONDecoder().decode([String].self, from: Data("[\(quoted)]".utf8))
            #expect(decoded == [sample], "\(sample.debugDescription) quoted as \(quoted)")
        }
        #expect(JSONText.quote("plain") == "\"plain\"")
        #expect(JSONText.quote("a\"b") == "\"a\\\"b\"")
    }

    @Test func integersAppendedAreTheirDecimalDigits() {
        for value in [Int.min, -1_234_567, -1, 0, 7, 10, 2_147_483_648, Int.max] {
            var out: [UInt8] = Array("x".utf8)
            JSONText.appendInteger(value, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "x\(value)")
        }
        var out: [UInt8] = []
        JSONText.appendInteger(Int32.min, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "-2147483648")
    }

    @Test func bytesAppendedAreTheQuotedText() {
        let samples = ["", "plain", "انقطاع الماء", "emoji 🚮", "say \"hi\"", "back\\slash", "line\nbreak\r\ttab",
                       "bell\u{7} and \u{1F}", "mixed \" \\ \n é"]
        for sample in samples {
            var bytes: [UInt8] = Array("x".utf8)
            JSONText.appendQuoted(sample, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == "x" + JSONText.quote(sample), "\(sample.debugDescription)")
        }
        var number: [UInt8] = []
        JSONText.appendInteger(-1234567890123, to: &number)
        #expect(String(decoding: number, as: UTF8.self) == "-1234567890123")
    }

    @Test(arguments: [[String](), ["one"], ["a", "b \" c", "انقطاع"]])
    func arraysReadBackAsTheirElements(items: [String]) throws {
        let json = JSONText.array(items, JSONText.quote)
        #expect(try JSONDecoder().decode([String].self, from: Data(json.utf8)) == items)
    }
}
