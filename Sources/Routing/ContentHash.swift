/// A 128-bit FNV-1a hash in hex: stable across runs and machines (unlike `Hasher`), enough to tell
/// rule versions apart; not a security measure.
enum ContentHash {
    static func hex(of text: String) -> String {
        var a: UInt64 = 0xcbf29ce484222325
        var b: UInt64 = 0x84222325cbf29ce4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x100000001b3
            b = (b ^ UInt64(byte)) &* 0x100000001b3 ^ (b >> 29)
        }
        func pad(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return pad(a) + pad(b)
    }
}
