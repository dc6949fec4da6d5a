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

    @Test(arguments: [[String](), ["one"], ["a", "b \" c", "انقطاع"]])
    func arraysReadBackAsTheirElements(items: [String]) throws {
        let json = JSONText.array(items, JSONText.quote)
        #expect(try JSONDecoder().decode([String].self, from: Data(json.utf8)) == items)
    }
}
