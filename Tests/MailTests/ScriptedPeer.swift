import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-connection SMTP server on loopback that plays a fixed script, so the client's handling
/// of odd servers (drops, silence, 421, out-of-order codes) can be tested without a real relay.
/// It runs on a thread of its own with blocking sockets.
final class ScriptedPeer: @unchecked Sendable {
    enum Step {
        /// Sends these lines, each followed by CRLF.
        case send(String)
        /// Reads one command line; the script stops if it does not start with the prefix.
        case expect(String)
        /// Reads message data up to the lone dot.
        case readData
        /// Closes the connection at once.
        case drop
        /// Says nothing for this many seconds.
        case silence(Double)
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var lines: [String] = []
    private var data: [String] = []
    private let done = DispatchSemaphore(value: 0)

    init(_ steps: [Step]) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        let thread = Thread { [self] in
            play(steps)
            done.signal()
        }
        thread.start()
    }

    /// Waits for the script to end; returns the command lines and the message bodies received.
    func finish() -> (commands: [String], messages: [String]) {
        _ = done.wait(timeout: .now() + 10)
        lock.lock()
        defer { lock.unlock() }
        return (lines, data)
    }

    var url: String { "smtp://127.0.0.1:\(port)?tls=none&timeout=2" }

    private func play(_ steps: [Step]) {
        let client = accept(listener, nil, nil)
        Glibc.close(listener)
        guard client >= 0 else { return }
        defer { Glibc.close(client) }
        var buffer: [UInt8] = []
        func readLine() -> String? {
            while true {
                if let newline = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[..<newline].filter { $0 != 13 }, as: UTF8.self)
                    buffer.removeFirst(newline + 1)
                    return line
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = recv(client, &chunk, chunk.count, 0)
                guard count > 0 else { return nil }
                buffer += chunk[0..<count]
            }
        }
        for step in steps {
            switch step {
            case .send(let text):
                let bytes = Array((text + "\r\n").utf8)
                _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            case .expect(let prefix):
                guard let line = readLine() else { return }
                record { $0.lines.append(line) }
                guard line.uppercased().hasPrefix(prefix.uppercased()) else { return }
            case .readData:
                var body: [String] = []
                while let line = readLine(), line != "." { body.append(line) }
                record { $0.data.append(body.joined(separator: "\r\n")) }
            case .drop:
                return
            case .silence(let seconds):
                Thread.sleep(forTimeInterval: seconds)
            }
        }
        // Let the client finish reading before the socket closes.
        _ = readLine()
    }

    private func record(_ change: (ScriptedPeer) -> Void) {
        lock.lock()
        change(self)
        lock.unlock()
    }
}
