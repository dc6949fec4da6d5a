import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Where the responder listens: `127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`, `localhost:9464`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    /// Parses `HOST:PORT` (an IPv6 address in brackets); nil when it is not one.
    public init?(_ text: String) {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            guard !host.contains(":") else { return nil }
        }
        guard !host.isEmpty, let number = Int(port), (0...65_535).contains(number) else { return nil }
        self.host = String(host)
        self.port = number
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why the responder could not start listening.
public struct HTTPResponderError: Error, CustomStringConvertible {
    public let description: String
}

/// A small HTTP/1.1 server for `/metrics` and `/healthz` on a thread of its own (never in Swift's
/// cooperative pool): one connection at a time, a bounded request head read within a bounded
/// time, one response, then the connection is closed. Enough for a Prometheus scrape or a
/// probe; nothing else should be served with it.
public final class HTTPResponder: Sendable {
    /// Bounds on what one client may cost.
    public struct Limits: Sendable {
        /// Largest request head taken; past it the answer is 431.
        public var maxHeadBytes = 8_192
        /// Time a client has to send its head (408 after), and to take the response.
        public var readSeconds = 5.0
        public var writeSeconds = 10.0

        public init() {}
    }

    /// The address actually bound (the port the system chose when asked for port 0).
    public let address: ListenAddress
    private let socket: Int32
    private let limits: Limits
    private let handler: @Sendable (HTTPRequestHead) -> HTTPResponse
    private let stopping = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)

    /// Binds and listens at once, so a taken port is reported before the service starts.
    public init(listen: ListenAddress, limits: Limits = Limits(),
                handler: @escaping @Sendable (HTTPRequestHead) -> HTTPResponse) throws(HTTPResponderError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(listen.host, String(listen.port), &hints, &list)
        guard status == 0, let info = list else {
            throw HTTPResponderError(description: "cannot resolve \(listen): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let fd = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
        guard fd >= 0 else { throw HTTPResponderError(description: "cannot open a socket: \(Self.errnoText())") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let reason = Self.errnoText()
            Glibc.close(fd)
            throw HTTPResponderError(description: "cannot listen on \(listen): \(reason)")
        }
        guard Glibc.listen(fd, 16) == 0 else {
            let reason = Self.errnoText()
            Glibc.close(fd)
            throw HTTPResponderError(description: "cannot listen on \(listen): \(reason)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let port = withUnsafeMutablePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> Int in
                guard getsockname(fd, address, &length) == 0 else { return listen.port }
                if address.pointee.sa_family == sa_family_t(AF_INET6) {
                    return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
                }
                return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        }
        self.socket = fd
        self.address = ListenAddress(host: listen.host, port: port)
        self.limits = limits
        self.handler = handler
    }

    /// Starts answering on a thread of its own.
    public func start(name: String = "metrics-http") {
        let thread = Thread { [self] in
            serve()
            finished.withLock { $0 = true }
        }
        thread.name = name
        // The thread inherits the signal mask in force when it is created: block every signal
        // for that moment, so none can reach it before `serve` blocks them for good.
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        thread.start()
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }

    /// Stops accepting (within about 200 ms) and closes the listening socket.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        for _ in 0..<50 where !finished.withLock({ $0 }) { usleep(10_000) }
    }

    private func serve() {
        defer { Glibc.close(socket) }
        // Process signals (SIGTERM, SIGINT) belong to the service's own handling: a thread that
        // leaves them unblocked may be the one the kernel picks, and their default action would
        // end the process without its graceful stop.
        var all = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, nil)
        while !stopping.load(ordering: .acquiring) {
            var listener = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&listener, 1, 200)
            if ready <= 0 { continue }
            let client = accept(socket, nil, nil)
            if client < 0 { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            answer(client)
            Glibc.close(client)
        }
    }

    /// Reads one request head and writes one response.
    private func answer(_ client: Int32) {
        let response: HTTPResponse
        switch readHead(client) {
        case .complete(let head): response = handler(head)
        case .invalid(let status, let reason): response = HTTPResponse(status, body: reason + "\n")
        case .incomplete: response = HTTPResponse(.requestTimeout, body: "request head not received in time\n")
        }
        write(response.serialized(), to: client)
        // Half-close, then read what the client still sends for a moment: closing a socket with
        // unread input makes the kernel send a reset, which can destroy the response before the
        // client has read it (a 431 to a client still sending its head).
        shutdown(client, Int32(SHUT_WR))
        drain(client, seconds: 0.5, maxBytes: 65_536)
    }

    private func drain(_ client: Int32, seconds: Double, maxBytes: Int) {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var chunk = [UInt8](repeating: 0, count: 4_096)
        var total = 0
        while total < maxBytes {
            let milliseconds = ContinuousClock.now.duration(to: deadline) / .milliseconds(1)
            guard milliseconds > 0 else { return }
            var pfd = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(max(1, milliseconds.rounded(.up)))) > 0 else { return }
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard count > 0 else { return }
            total += count
        }
    }

    private func readHead(_ client: Int32) -> HTTPRequestParse {
        let deadline = ContinuousClock.now + .seconds(limits.readSeconds)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2_048)
        while true {
            let milliseconds = ContinuousClock.now.duration(to: deadline) / .milliseconds(1)
            guard milliseconds > 0 else { return .incomplete }
            var pfd = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(max(1, milliseconds.rounded(.up))))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return .incomplete }
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard count > 0 else { return .invalid(.badRequest, reason: "connection closed before the request head ended") }
            bytes.append(contentsOf: chunk[..<count])
            let parsed = HTTPRequestParser.parse(bytes, limit: limits.maxHeadBytes)
            if parsed != .incomplete { return parsed }
        }
    }

    private func write(_ bytes: [UInt8], to client: Int32) {
        let deadline = ContinuousClock.now + .seconds(limits.writeSeconds)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(client, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            guard sent < 0, errno == EAGAIN || errno == EINTR else { return }
            let milliseconds = ContinuousClock.now.duration(to: deadline) / .milliseconds(1)
            guard milliseconds > 0 else { return }
            var pfd = pollfd(fd: client, events: Int16(POLLOUT), revents: 0)
            guard poll(&pfd, 1, Int32(max(1, milliseconds.rounded(.up)))) > 0 else { return }
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

extension ListenAddress {
    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

