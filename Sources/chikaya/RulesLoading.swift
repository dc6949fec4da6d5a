import Foundation
import Routing

/// Where the commands find the routing rules unless told otherwise, and how a bad file becomes a
/// command-line error (every diagnostic, exit 65; a missing file, exit 66).
enum RulesLoading {
    static let defaultPath = "config/routing-rules.conf"

    static func load(_ path: String?) throws(CLIError) -> RuleSet {
        let path = path ?? defaultPath
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .noInput("cannot read the rules file '\(path)' (use --rules FILE)")
        }
        do {
            return try RuleSet.load(path: path)
        } catch {
            throw .dataError(error.description)
        }
    }
}
