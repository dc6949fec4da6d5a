import Foundation

/// RFC 2047 encoded-words (`=?UTF-8?B?...?=`) for header text that is not ASCII.
enum EncodedWord {
    /// RFC 2047 §2: an encoded-word is at most 75 characters.
    static let maxLength = 75
    private static let overhead = "=?UTF-8?B??=".count

    /// Splits `text` into encoded-words of at most `maxLength` characters each (the first at most
    /// `firstMaxLength`, to leave room for the header name), cutting only between whole characters
    /// so that no word holds half of a UTF-8 sequence or a letter without its marks.
    static func encode(_ text: String, firstMaxLength: Int = maxLength) -> [String] {
        // A word's octets are always a run of the text's own UTF-8 octets: only the run's bounds
        // are tracked, and each character is measured, never copied into a String of its own.
        let bytes = Array(text.utf8)
        var words: [String] = []
        var start = 0
        var end = 0
        var limit = capacity(forWordLength: firstMaxLength)
        func flush() {
            guard end > start else { return }
            var word: [UInt8] = Array("=?UTF-8?B?".utf8)
            Base64Writer.append(bytes[start..<end], to: &word)
            word.append(contentsOf: "?=".utf8)
            words.append(String(decoding: word, as: UTF8.self))
            start = end
            limit = capacity(forWordLength: maxLength)
        }
        for character in text {
            let size = character.utf8.count
            if end - start + size > limit { flush() }
            if size <= limit {
                end += size
                continue
            }
            // A single character too big for a word (long combining sequences): fall back to
            // its scalars, which are still whole UTF-8 sequences.
            for scalar in character.unicodeScalars {
                let scalarSize = UTF8.width(scalar)
                if end - start + scalarSize > limit { flush() }
                end += scalarSize
            }
        }
        flush()
        return words
    }

    /// Octets of text that fit in a word of `length` characters: base64 gives 4 per 3.
    private static func capacity(forWordLength length: Int) -> Int {
        max(1, (max(4, length - overhead) / 4) * 3)
    }

    static func needsEncoding(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte >= 128 || (byte < 32 && byte != 9) { return true }
            if previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?") { return true }
            previous = byte
        }
        return false
    }
}
