/// A message that cannot be built as asked; every case is a permanent failure for that message.
public enum MIMEError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A CR, LF or NUL in a value that would reach a header: it could forge headers or recipients.
    case headerInjection(field: String)
    case invalidAddress(String, reason: String)
    /// A header that cannot be folded under the 998-octet line limit of RFC 5322 §2.1.1.
    case headerTooLong(field: String)
    case missingRecipient
    /// A Message-ID, language tag or URL that does not have the shape its header needs.
    case invalidHeaderValue(field: String, reason: String)

    public var description: String {
        switch self {
        case .headerInjection(let field): "line break or NUL in the \(field) header value (header injection refused)"
        case .invalidAddress(let address, let reason): "invalid email address '\(address)': \(reason)"
        case .headerTooLong(let field): "the \(field) header has a word longer than 998 octets"
        case .missingRecipient: "a message needs at least one recipient"
        case .invalidHeaderValue(let field, let reason): "invalid \(field) header value: \(reason)"
        }
    }
}
