import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A secret kept in a file of its own (`DATABASE_URL_FILE`, `CHIKAYA_SMTP_URL_FILE`): the
/// systemd-credential and container-secret convention, which keeps the password out of the
/// environment that child processes inherit and out of the configuration file.
///
/// A file that other users can read or write is refused, not used: the secret would already be
/// out, and saying so is the only way the operator learns it.
enum SecretFile {
    struct Refused: Error { let reason: String }

    /// The file's one line, without its line break.
    static func read(_ path: String) throws(Refused) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Refused(reason: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Refused(reason: "\(path) is not a regular file") }
        let mode = info.st_mode & 0o777
        guard mode & 0o007 == 0 else {
            throw Refused(reason: "\(path) is readable or writable by other users (mode \(String(mode, radix: 8))): "
                          + "it may already be compromised; change the secret, then chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Refused(reason: "cannot read \(path)")
        }
        let text: String
        do { text = try TextFile.decodeStrictly(data, fileName: path) } catch { throw Refused(reason: error.description) }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw Refused(reason: "\(path) is empty") }
        guard !value.contains(where: \.isNewline) else {
            throw Refused(reason: "\(path) holds several lines; it must hold the one value")
        }
        return value
    }
}
