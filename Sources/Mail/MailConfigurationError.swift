/// An SMTP URL or mail setting that cannot work, with what to change. Never contains a password.
public struct MailConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
