import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// The process's one OpenSSL client context: trust store, protocol floor, verification on.
/// Connections share it (an `SSL_CTX` is safe to use from many threads once configured).
public final class TLSContext: Sendable {
    nonisolated(unsafe) let pointer: OpaquePointer

    /// Loads `caFile` (PEM) as the only trust anchors when given, else the system's store.
    /// With `loadTrustAnchors` false (a relay reached without TLS), nothing is loaded: parsing
    /// the system's store was a seventh of a 2,000-message notifier run, and a handshake on such
    /// a context fails verification rather than trusting anything.
    public init(caFile: String?, loadTrustAnchors: Bool = true) throws(SMTPError) {
        // A peer that closes while we write must give EPIPE, not kill the process; OpenSSL writes
        // through write(2), where MSG_NOSIGNAL cannot be passed.
        signal(SIGPIPE, SIG_IGN)
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw SMTPError(.tls, phase: "TLS setup", detail: OpenSSLErrors.drain())
        }
        pointer = context
        _ = chikaya_SSL_CTX_set_min_proto_version(context, chikaya_TLS1_2_VERSION())
        _ = chikaya_SSL_CTX_set_mode(context, chikaya_SSL_MODE_ENABLE_PARTIAL_WRITE() | chikaya_SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER())
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        let loaded: Int32
        if !loadTrustAnchors {
            loaded = 1
        } else if let caFile {
            loaded = SSL_CTX_load_verify_locations(context, caFile, nil)
        } else {
            loaded = SSL_CTX_set_default_verify_paths(context)
        }
        guard loaded == 1 else {
            let detail = OpenSSLErrors.drain()
            SSL_CTX_free(context)
            throw SMTPError(.tls, phase: "TLS setup",
                            detail: "cannot load CA certificates from \(caFile ?? "the system store"): \(detail)")
        }
    }

    deinit { SSL_CTX_free(pointer) }
}

/// OpenSSL's thread-local error queue as one readable line.
enum OpenSSLErrors {
    static func drain() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? "no detail from OpenSSL" : messages.joined(separator: "; ")
    }
}
