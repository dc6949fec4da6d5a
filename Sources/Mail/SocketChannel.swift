import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking TCP socket, optionally wrapped in TLS, read line by line; every wait goes
/// through poll(2) with a deadline, so a silent or stalled peer ends in a timeout, never a hang.
/// Used from one thread at a time.
final class SocketChannel {
    private var fd: Int32
    private var ssl: OpaquePointer?
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where each read lands, kept for the connection's life: a new zeroed 16 KiB array for
    /// every read was the notifier's largest memset.
    private var chunk = [UInt8](repeating: 0, count: 16384)
    /// RFC 5321 §4.5.3.1.5 allows 512 octets per reply line; extensions make them longer in practice.
    private let maxLineLength = 8192

    var isTLS: Bool { ssl != nil }
    /// Bytes received but not yet read; after STARTTLS this must be empty (no injected commands).
    var hasBufferedInput: Bool { start < buffer.count }

    init(host: String, port: Int, timeout: Double) throws(SMTPError) {
        let deadline = Deadline(secondsFromNow: timeout)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            throw SMTPError(.connect, phase: "connect", detail: "cannot resolve \(host): \(reason)")
        }
        defer { freeaddrinfo(list) }

        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let socketFD = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard socketFD >= 0 else { lastError = Self.errnoText(); continue }
            _ = fcntl(socketFD, F_SETFL, fcntl(socketFD, F_GETFL) | O_NONBLOCK)
            _ = fcntl(socketFD, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            // Commands are small and replies are awaited; Nagle would add a delay per round trip.
            _ = setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                var pfd = pollfd(fd: socketFD, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&pfd, 1, deadline.remainingMilliseconds)
                if ready == 1 {
                    var soError: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(socketFD, SOL_SOCKET, SO_ERROR, &soError, &length)
                    if soError == 0 {
                        fd = socketFD
                        return
                    }
                    lastError = String(cString: strerror(soError))
                } else {
                    lastError = ready == 0 ? "timed out after \(timeout)s" : Self.errnoText()
                }
            } else {
                lastError = Self.errnoText()
            }
            Glibc.close(socketFD)
        }
        throw SMTPError(lastError.hasPrefix("timed out") ? .timeout : .connect, phase: "connect",
                        detail: "cannot connect to \(host):\(port): \(lastError)")
    }

    deinit { close() }

    func close() {
        if let ssl {
            SSL_free(ssl)
            self.ssl = nil
        }
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// TLS handshake on the open socket, verifying the certificate against `serverName`.
    func startTLS(context: TLSContext, serverName: String, timeout: Double) throws(SMTPError) {
        let deadline = Deadline(secondsFromNow: timeout)
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else {
            throw SMTPError(.tls, phase: "TLS handshake", detail: OpenSSLErrors.drain())
        }
        self.ssl = ssl
        SSL_set_fd(ssl, fd)
        if Self.isIPAddress(serverName) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
        } else {
            _ = chikaya_SSL_set_tlsext_host_name(ssl, serverName)
            SSL_set1_host(ssl, serverName)
        }
        while true {
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ: try wait(for: POLLIN, deadline: deadline, phase: "TLS handshake")
            case SSL_ERROR_WANT_WRITE: try wait(for: POLLOUT, deadline: deadline, phase: "TLS handshake")
            default:
                let verify = SSL_get_verify_result(ssl)
                var detail = OpenSSLErrors.drain()
                if verify != X509_V_OK {
                    detail = "certificate of \(serverName) not trusted: " + String(cString: X509_verify_cert_error_string(verify))
                }
                throw SMTPError(.tls, phase: "TLS handshake", detail: detail)
            }
        }
    }

    /// Writes everything or throws; a peer that stops reading ends in a timeout.
    func write(_ bytes: [UInt8], timeout: Double, phase: String) throws(SMTPError) {
        let deadline = Deadline(secondsFromNow: timeout)
        var offset = 0
        while offset < bytes.count {
            let step = bytes.withUnsafeBytes { raw in
                transfer(UnsafeMutableRawPointer(mutating: raw.baseAddress! + offset), raw.count - offset, writing: true)
            }
            switch step {
            case .done(let count): offset += count
            case .wait(let event): try wait(for: event, deadline: deadline, phase: phase)
            case .closed: throw SMTPError(.connectionClosed, phase: phase, detail: "the server closed the connection")
            case .failed(let reason): throw SMTPError(.connectionClosed, phase: phase, detail: "write failed: \(reason)")
            }
        }
    }

    /// One line without its CR LF (a bare LF is accepted too, as many servers are lax).
    func readLine(deadline: Deadline, phase: String) throws(SMTPError) -> [UInt8] {
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                var end = newline
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = Array(buffer[start..<end])
                start = newline + 1
                if start == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    start = 0
                }
                return line
            }
            if buffer.count - start > maxLineLength {
                throw SMTPError(.protocolViolation, phase: phase, detail: "reply line longer than \(maxLineLength) octets")
            }
            try fill(deadline: deadline, phase: phase)
        }
    }

    private func fill(deadline: Deadline, phase: String) throws(SMTPError) {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        while true {
            let step = chunk.withUnsafeMutableBytes { raw in
                transfer(raw.baseAddress!, raw.count, writing: false)
            }
            switch step {
            case .done(let count) where count > 0:
                buffer.append(contentsOf: chunk[0..<count])
                return
            case .done, .closed: throw SMTPError(.connectionClosed, phase: phase, detail: "the server closed the connection")
            case .wait(let event): try wait(for: event, deadline: deadline, phase: phase)
            case .failed(let reason): throw SMTPError(.connectionClosed, phase: phase, detail: "read failed: \(reason)")
            }
        }
    }

    private enum Step {
        case done(Int)
        case wait(Int32)
        case closed
        case failed(String)
    }

    /// One read or write attempt, plain or TLS, turned into what the caller must do next.
    private func transfer(_ pointer: UnsafeMutableRawPointer, _ count: Int, writing: Bool) -> Step {
        if let ssl {
            var done = 0
            ERR_clear_error()
            let ok = writing ? SSL_write_ex(ssl, pointer, count, &done) : SSL_read_ex(ssl, pointer, count, &done)
            if ok == 1 { return .done(done) }
            switch SSL_get_error(ssl, 0) {
            case SSL_ERROR_WANT_READ: return .wait(Int32(POLLIN))
            case SSL_ERROR_WANT_WRITE: return .wait(Int32(POLLOUT))
            case SSL_ERROR_ZERO_RETURN: return .closed
            case SSL_ERROR_SYSCALL: return errno == 0 ? .closed : .failed(Self.errnoText())
            default: return .failed("TLS: \(OpenSSLErrors.drain())")
            }
        }
        let result = writing ? send(fd, pointer, count, Int32(MSG_NOSIGNAL)) : recv(fd, pointer, count, 0)
        if result > 0 || (result == 0 && writing) { return .done(result) }
        if result == 0 { return .closed }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
            return .wait(Int32(writing ? POLLOUT : POLLIN))
        }
        return .failed(Self.errnoText())
    }

    private func wait(for event: Int32, deadline: Deadline, phase: String) throws(SMTPError) {
        while true {
            let remaining = deadline.remainingMilliseconds
            guard remaining > 0 else {
                throw SMTPError(.timeout, phase: phase, detail: "no answer from the server in time")
            }
            var pfd = pollfd(fd: fd, events: Int16(event), revents: 0)
            let ready = poll(&pfd, 1, remaining)
            if ready > 0 { return }
            if ready == 0 {
                throw SMTPError(.timeout, phase: phase, detail: "no answer from the server in time")
            }
            if errno != EINTR {
                throw SMTPError(.connectionClosed, phase: phase, detail: "poll failed: \(Self.errnoText())")
            }
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    private static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
