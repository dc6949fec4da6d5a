/// The head of an HTTP/1.x request: what the metrics responder needs to answer it.
public struct HTTPRequestHead: Sendable, Equatable {
    public let method: String
    /// The request target as sent (`/metrics?x=1`).
    public let target: String
    /// `HTTP/1.0` or `HTTP/1.1`.
    public let version: String
    /// Header fields in order, names as sent.
    public let headers: [Header]

    /// One header field.
    public struct Header: Sendable, Equatable {
        public let name: String
        public let value: String
    }

    /// The target's path, without the query.
    public var path: Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// The first header of that name (case-insensitive), trimmed.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What reading the bytes received so far gave.
public enum HTTPRequestParse: Sendable, Equatable {
    /// The head is not complete yet: read more (within the size and time limits).
    case incomplete
    /// A whole head.
    case complete(HTTPRequestHead)
    /// Not a request we can take: answer with this status and close.
    case invalid(HTTPStatus, reason: String)
}

/// Parses the head of one HTTP/1.x request (RFC 9112 §2-5), strictly: a request line of three
/// parts in origin form, header fields `name: value` without line folding, `Host` on HTTP/1.1,
/// at most `limit` octets up to and including the empty line. Lines end in CR LF; a bare LF is
/// accepted as RFC 9112 §2.2 allows.
public enum HTTPRequestParser {
    public static func parse(_ bytes: [UInt8], limit: Int) -> HTTPRequestParse {
        guard let end = endOfHead(bytes) else {
            return bytes.count >= limit ? .invalid(.requestHeaderFieldsTooLarge, reason: "request head over \(limit) octets")
                                        : .incomplete
        }
        guard end <= limit else { return .invalid(.requestHeaderFieldsTooLarge, reason: "request head over \(limit) octets") }
        // Bytes beyond ASCII, or control characters other than tab, CR and LF, have no place in a head.
        for byte in bytes[..<end] where byte >= 0x80 || (byte < 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A) || byte == 0x7F {
            return .invalid(.badRequest, reason: "a control or non-ASCII octet in the request head")
        }
        // Split the octets, not a String: "\r\n" is one Character in Swift.
        var lines = bytes[..<end].split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> Substring in
            let text = line.last == 0x0D ? line.dropLast() : line
            return Substring(String(decoding: text, as: UTF8.self))
        }
        guard !lines.contains(where: { $0.contains("\r") }) else {
            return .invalid(.badRequest, reason: "a bare CR in the request head")
        }
        // RFC 9112 §2.2: empty lines before the request line are ignored.
        while let first = lines.first, first.isEmpty { lines.removeFirst() }
        guard let requestLine = lines.first else { return .invalid(.badRequest, reason: "empty request") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .invalid(.badRequest, reason: "malformed request line") }
        let method = String(parts[0]), target = String(parts[1]), version = String(parts[2])
        guard !method.isEmpty, method.unicodeScalars.allSatisfy(isTokenCharacter) else {
            return .invalid(.badRequest, reason: "malformed method")
        }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .invalid(.badRequest, reason: "unsupported protocol version")
        }
        guard target.hasPrefix("/"), !target.contains("\t") else {
            return .invalid(.badRequest, reason: "the request target must be a path")
        }
        var headers: [HTTPRequestHead.Header] = []
        for line in lines.dropFirst() where !line.isEmpty {
            if line.first == " " || line.first == "\t" {
                return .invalid(.badRequest, reason: "folded header line")
            }
            guard let colon = line.firstIndex(of: ":") else { return .invalid(.badRequest, reason: "header line without a colon") }
            let name = line[..<colon]
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(isTokenCharacter) else {
                return .invalid(.badRequest, reason: "malformed header name")
            }
            let value = line[line.index(after: colon)...].trimmingSpaces
            headers.append(.init(name: String(name), value: String(value)))
        }
        if version == "HTTP/1.1" {
            let hosts = headers.filter { $0.name.lowercased() == "host" }
            guard hosts.count == 1 else { return .invalid(.badRequest, reason: "an HTTP/1.1 request needs one Host header") }
        }
        return .complete(HTTPRequestHead(method: method, target: target, version: version, headers: headers))
    }

    /// Offset just past the empty line that ends the head (CR LF CR LF or LF LF), if there is one.
    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenCharacter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "!#$%&'*+-.^_`|~".unicodeScalars.contains(c)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}

/// The statuses the responder answers with.
public enum HTTPStatus: Int, Sendable, Equatable {
    case ok = 200
    case badRequest = 400
    case notFound = 404
    case methodNotAllowed = 405
    case requestTimeout = 408
    case requestHeaderFieldsTooLarge = 431
    case internalServerError = 500
    case serviceUnavailable = 503

    public var reason: String {
        switch self {
        case .ok: "OK"
        case .badRequest: "Bad Request"
        case .notFound: "Not Found"
        case .methodNotAllowed: "Method Not Allowed"
        case .requestTimeout: "Request Timeout"
        case .requestHeaderFieldsTooLarge: "Request Header Fields Too Large"
        case .internalServerError: "Internal Server Error"
        case .serviceUnavailable: "Service Unavailable"
        }
    }
}

/// A whole response; the responder always closes the connection after it.
public struct HTTPResponse: Sendable {
    public let status: HTTPStatus
    public let contentType: String
    public let body: String
    public let extraHeaders: [(String, String)]

    public init(_ status: HTTPStatus, contentType: String = "text/plain; charset=utf-8", body: String,
                extraHeaders: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.extraHeaders = extraHeaders
    }

    /// The octets on the wire.
    public func serialized() -> [UInt8] {
        let body = Array(self.body.utf8)
        var head = "HTTP/1.1 \(status.rawValue) \(status.reason)\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        head += "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}
