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
        let encodedCount = (count + 2) / 3 * 4
        let groupsPerLine = lineLength.map { max(1, $0 / 4) } ?? Int.max
        let breaks = lineLength == nil ? 0 : (encodedCount / 4 - 1) / groupsPerLine
        let total = encodedCount + 2 * breaks
        let offset = out.count
        out.append(contentsOf: repeatElement(0, count: total))
        alphabet.withUnsafeBufferPointer { table in
            input.withUnsafeBufferPointer { source in
                out.withUnsafeMutableBufferPointer { buffer in
                    var o = offset
                    var i = 0
                    var groups = 0
                    while i < count {
                        if groups == groupsPerLine {
                            buffer[o] = 13
                            buffer[o + 1] = 10
                            o += 2
                            groups = 0
                        }
                        let a = source[i]
                        let b: UInt8 = i + 1 < count ? source[i + 1] : 0
                        let c: UInt8 = i + 2 < count ? source[i + 2] : 0
                        buffer[o] = table[Int(a >> 2)]
                        buffer[o + 1] = table[Int((a & 0x03) << 4 | b >> 4)]
                        buffer[o + 2] = i + 1 < count ? table[Int((b & 0x0F) << 2 | c >> 6)] : UInt8(ascii: "=")
                        buffer[o + 3] = i + 2 < count ? table[Int(c & 0x3F)] : UInt8(ascii: "=")
                        o += 4
                        i += 3
                        groups += 1
                    }
                }
            }
        }
    }

    static func append(_ input: [UInt8], lineLength: Int? = nil, to out: inout [UInt8]) {
        append(input[...], lineLength: lineLength, to: &out)
    }
}
