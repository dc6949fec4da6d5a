import Foundation

/// Where and how to reach the mail relay, parsed from a `CHIKAYA_SMTP_URL`-style URL:
/// `smtp://user:pass@host:587?tls=starttls`, `smtps://host:465`, `smtp://127.0.0.1:2525?tls=none`.
///
/// Query parameters: `tls=starttls|implicit|none`, `helo=NAME`, `allow_insecure_auth=true`,
/// `timeout=SECONDS` (all phases), `connect_timeout`, `command_timeout`, `data_timeout`
/// (end-of-data reply).
public struct SMTPConfiguration: Sendable, CustomStringConvertible {
    /// How the session gets encrypted.
    public enum TLSMode: String, Sendable {
        /// Plain connect, then STARTTLS (RFC 3207); refused if the server does not offer it.
        case startTLS = "starttls"
        /// TLS from the first byte (RFC 8314), usually port 465.
        case implicit
        /// No TLS at all: only for a relay on loopback or a trusted local network.
        case none
    }

    public var host: String
    public var port: Int
    public var tls: TLSMode
    public var username: String?
    /// Kept out of `description` and every error.
    var password: String?
    public var caFile: String?
    public var heloName: String
    /// AUTH over a clear connection; only for a local relay, and only when asked for by name.
    public var allowInsecureAuth: Bool
    public var timeouts: SMTPTimeouts

    public var hasCredentials: Bool { username != nil }

    public init(url: String, caFile: String?) throws(MailConfigurationError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw MailConfigurationError("SMTP URL is not a URL (expected smtp://host:port or smtps://host:port)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw MailConfigurationError("SMTP URL has no host (expected smtp://host:port)")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] {
            query[item.name.lowercased()] = item.value ?? ""
        }
        let known: Set<String> = ["tls", "helo", "allow_insecure_auth", "timeout", "connect_timeout", "command_timeout", "data_timeout"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw MailConfigurationError("SMTP URL has an unknown parameter '\(unknown)' (known: \(known.sorted().joined(separator: ", ")))")
        }

        switch scheme {
        case "smtp":
            let modeText = query["tls"] ?? "starttls"
            guard let mode = TLSMode(rawValue: modeText.lowercased()) else {
                throw MailConfigurationError("SMTP URL: tls must be starttls, implicit or none, not '\(modeText)'")
            }
            tls = mode
        case "smtps":
            if let modeText = query["tls"], modeText.lowercased() != "implicit" {
                throw MailConfigurationError("SMTP URL: smtps:// always uses implicit TLS; drop tls=\(modeText) or use smtp://")
            }
            tls = .implicit
        default:
            throw MailConfigurationError("SMTP URL scheme must be smtp or smtps, not '\(scheme)'")
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? (tls == .implicit ? 465 : (tls == .startTLS ? 587 : 25))
        guard (1...65535).contains(port) else {
            throw MailConfigurationError("SMTP URL port must be between 1 and 65535")
        }
        // Decoded exactly once: `user`/`password` are already decoded by URLComponents, and a
        // second decoding would turn a password containing "%41" into "A".
        username = components.percentEncodedUser.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding ?? $0 }
        password = components.percentEncodedPassword.map { $0.removingPercentEncoding ?? $0 }
        if password != nil && username == nil {
            throw MailConfigurationError("SMTP URL has a password but no user name")
        }
        self.caFile = caFile.flatMap { $0.isEmpty ? nil : $0 }
        heloName = query["helo"] ?? Self.localHostName()
        guard !heloName.isEmpty, heloName.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw MailConfigurationError("SMTP URL: helo must be a host name without spaces")
        }
        switch query["allow_insecure_auth"]?.lowercased() {
        case nil, "false", "0", "no": allowInsecureAuth = false
        case "true", "1", "yes": allowInsecureAuth = true
        case let other?: throw MailConfigurationError("SMTP URL: allow_insecure_auth must be true or false, not '\(other)'")
        }
        timeouts = SMTPTimeouts()
        if let text = query["timeout"] { timeouts = SMTPTimeouts(all: try Self.seconds(text, "timeout")) }
        if let text = query["connect_timeout"] { timeouts.connect = try Self.seconds(text, "connect_timeout") }
        if let text = query["command_timeout"] {
            let value = try Self.seconds(text, "command_timeout")
            timeouts.greeting = value
            timeouts.command = value
            timeouts.dataInitiation = value
            timeouts.dataBlock = value
        }
        if let text = query["data_timeout"] { timeouts.dataTermination = try Self.seconds(text, "data_timeout") }

        if username != nil && tls == .none && !allowInsecureAuth {
            throw MailConfigurationError(
                "SMTP URL has credentials but tls=none: the password would cross the network in clear; use tls=starttls or smtps://, or add allow_insecure_auth=true for a local relay")
        }
    }

    public var description: String {
        let scheme = tls == .implicit ? "smtps" : "smtp"
        let user = username.map { "\($0):***@" } ?? ""
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(user)\(hostText):\(port)?tls=\(tls.rawValue)"
    }

    private static func seconds(_ text: String, _ name: String) throws(MailConfigurationError) -> Double {
        guard let value = Double(text), value > 0, value <= 3600 else {
            throw MailConfigurationError("SMTP URL: \(name) must be a number of seconds between 0 and 3600, not '\(text)'")
        }
        return value
    }

    private static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty || !name.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) ? "localhost" : name
    }
}
