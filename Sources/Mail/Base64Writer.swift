/// Standard base64 (RFC 4648 §4, with padding) written straight into a byte buffer, optionally
/// cut into lines: the notifier encodes every Arabic body and subject this way, and Foundation's
/// encoder made a `String` that was then copied and cut again.
enum Base64Writer {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends the encoding of `input` to `out`, with CR LF after every `lineLength` characters
    /// (a multiple of 4) except at the very end; nil: one line.
    static func append(_ input: ArraySlice<UInt8>, lineLength: Int? = nil, to out: inout [UInt8]) {
        let count = input.count
        guard count > 0 else { return }
        let groups = (count + 2) / 3
        let groupsPerLine = lineLength.map { max(1, $0 / 4) } ?? groups
        let breaks = (groups - 1) / groupsPerLine
        let total = groups * 4 + 2 * breaks
        // Encoded into a scratch buffer left uninitialised, then copied (growing `out` by a run
        // of zeros first cost as much as the encoding).
        let encoded = [UInt8](unsafeUninitializedCapacity: total) { buffer, written in
            written = total
            alphabet.withUnsafeBufferPointer { table in
                input.withUnsafeBufferPointer { source in
                    var o = 0
                    var i = 0
                    var left = groupsPerLine
                    // Whole groups of three octets; the last one or two octets after the loop.
                    while i + 3 <= count {
                        if left == 0 {
                            buffer[o] = 13
                            buffer[o + 1] = 10
                            o += 2
                            left = groupsPerLine
                        }
                        let word = UInt32(source[i]) << 16 | UInt32(source[i + 1]) << 8 | UInt32(source[i + 2])
                        buffer[o] = table[Int(word >> 18)]
                        buffer[o + 1] = table[Int(word >> 12 & 0x3F)]
                        buffer[o + 2] = table[Int(word >> 6 & 0x3F)]
                        buffer[o + 3] = table[Int(word & 0x3F)]
                        o += 4
                        i += 3
                        left -= 1
                    }
                    guard i < count else { return }
                    if left == 0 {
                        buffer[o] = 13
                        buffer[o + 1] = 10
                        o += 2
                    }
                    let second = i + 1 < count
                    let word = UInt32(source[i]) << 16 | (second ? UInt32(source[i + 1]) << 8 : 0)
                    buffer[o] = table[Int(word >> 18)]
                    buffer[o + 1] = table[Int(word >> 12 & 0x3F)]
                    buffer[o + 2] = second ? table[Int(word >> 6 & 0x3F)] : UInt8(ascii: "=")
                    buffer[o + 3] = UInt8(ascii: "=")
                }
            }
        }
        out.append(contentsOf: encoded)
    }

    static func append(_ input: [UInt8], lineLength: Int? = nil, to out: inout [UInt8]) {
        append(input[...], lineLength: lineLength, to: &out)
    }
}
