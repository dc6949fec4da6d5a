import Foundation

/// `print(..., to: &stderr)` for human messages; logs go through the logger instead.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
