import Foundation
import Metrics
import Testing

@Suite("HTTP request head parsing (unit)")
struct HTTPRequestParserTests {
    func parse(_ text: String, limit: Int = 8_192) -> HTTPRequestParse {
        HTTPRequestParser.parse(Array(text.utf8), limit: limit)
    }

    @Test func aPrometheusScrapeIsAccepted() throws {
        let result = parse("GET /metrics?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nAccept: text/plain;version=0.0.4\r\n\r\n")
        guard case .complete(let head) = result else {
            Issue.record("expected a complete head, got \(result)")
            return
        }
        #expect(head.method == "GET")
        #expect(head.path == "/metrics")
        #expect(head.header("accept") == "text/plain;version=0.0.4")
        #expect(head.header("HOST") == "127.0.0.1:9464")
    }

    @Test func bareLineFeedsAndHTTP10WithoutHostAreAccepted() {
        guard case .complete(let head) = parse("\r\nGET /healthz HTTP/1.0\n\n") else {
            Issue.record("expected a complete head")
            return
        }
        #expect(head.version == "HTTP/1.0")
    }

    @Test func aHeadCutShortIsIncomplete() {
        #expect(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n") == .incomplete)
        #expect(parse("GET /met") == .incomplete)
    }

    @Test(arguments: [
        "GET /metrics\r\n\r\n",                                  // two parts
        "GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n",             // double space
        "GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n",              // version
        "GET http://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n",      // absolute form
        "GET /metrics HTTP/1.1\r\n\r\n",                         // no Host on 1.1
        "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",   // two Hosts
        "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",   // obsolete line folding
        "GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",               // no colon
        "GET /metrics HTTP/1.1\r\nBad Name: x\r\nHost: x\r\n\r\n",
        "G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n",              // method not a token
        "GET /m\u{e9}trics HTTP/1.1\r\nHost: x\r\n\r\n",         // non-ASCII
        "GET /metrics HTTP/1.1\rX\r\nHost: x\r\n\r\n",          // bare CR
    ])
    func malformedHeadsAreBadRequests(_ text: String) {
        guard case .invalid(let status, _) = parse(text) else {
            Issue.record("accepted: \(text.debugDescription)")
            return
        }
        #expect(status == .badRequest)
    }

    @Test func anOversizedHeadIsRefusedWithoutWaitingForItsEnd() {
        let long = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + String(repeating: "a", count: 200)
        guard case .invalid(let status, _) = parse(long, limit: 128) else {
            Issue.record("an unfinished head over the limit must be refused")
            return
        }
        #expect(status == .requestHeaderFieldsTooLarge)
        guard case .invalid(let whole, _) = parse(long + "\r\n\r\n", limit: 128) else {
            Issue.record("a finished head over the limit must be refused")
            return
        }
        #expect(whole == .requestHeaderFieldsTooLarge)
    }

    @Test func listenAddressesParse() {
        #expect(ListenAddress("127.0.0.1:9464")?.port == 9464)
        #expect(ListenAddress("[::1]:9464")?.host == "::1")
        #expect(ListenAddress("[::1]:9464")?.description == "[::1]:9464")
        #expect(ListenAddress("localhost:0")?.port == 0)
        #expect(ListenAddress("9464") == nil)
        #expect(ListenAddress("::1:9464") == nil)
        #expect(ListenAddress("host:99999") == nil)
        #expect(ListenAddress(":9464") == nil)
    }
}

/// The responder on a real loopback socket: what a scraper and a misbehaving client get.
@Suite("HTTP responder on loopback (unit)")
struct HTTPResponderTests {
    static func exchange(_ port: Int, _ request: [UInt8], halfClose: Bool = true) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    func withResponder(_ limits: HTTPResponder.Limits = .init(), _ body: (Int) throws -> Void) throws {
        let responder = try HTTPResponder(listen: try #require(ListenAddress("127.0.0.1:0")), limits: limits) { head in
            switch (head.method, head.path) {
            case ("GET", "/metrics"): HTTPResponse(.ok, contentType: PrometheusText.contentType, body: "up 1\n")
            case (_, "/metrics"): HTTPResponse(.methodNotAllowed, body: "GET only\n", extraHeaders: [("Allow", "GET")])
            default: HTTPResponse(.notFound, body: "not found\n")
            }
        }
        #expect(responder.address.port > 0)
        responder.start()
        defer { responder.stop() }
        try body(responder.address.port)
    }

    @Test func answersGetNotFoundAndWrongMethod() throws {
        try withResponder { (port: Int) throws in
            let ok = try Self.exchange(port, Array("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
            #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(ok.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
            #expect(ok.contains("Content-Length: 5\r\n"))
            #expect(ok.hasSuffix("\r\n\r\nup 1\n"))
            #expect(try Self.exchange(port, Array("GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 404 "))
            let post = try Self.exchange(port, Array("POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n".utf8))
            #expect(post.hasPrefix("HTTP/1.1 405 "))
            #expect(post.contains("Allow: GET\r\n"))
            #expect(try Self.exchange(port, Array("BLAH\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 400 "))
        }
    }

    @Test func oversizedAndSilentClientsAreCutOff() throws {
        var limits = HTTPResponder.Limits()
        limits.maxHeadBytes = 1_024
        limits.readSeconds = 0.5
        try withResponder(limits) { (port: Int) throws in
            let huge = Array(("GET /metrics HTTP/1.1\r\nHost: t\r\nX: " + String(repeating: "y", count: 4_000) + "\r\n\r\n").utf8)
            #expect(try Self.exchange(port, huge).hasPrefix("HTTP/1.1 431 "))
            // A client that sends half a head and then nothing gets 408 once the read time is over,
            // and the responder then serves the next client.
            #expect(try Self.exchange(port, Array("GET /metrics HTTP/1.1\r\n".utf8), halfClose: false).hasPrefix("HTTP/1.1 408 "))
            #expect(try Self.exchange(port, Array("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 200 "))
        }
    }

    @Test func aTakenPortIsReportedAtOnce() throws {
        try withResponder { (port: Int) throws in
            #expect(throws: HTTPResponderError.self) {
                _ = try HTTPResponder(listen: ListenAddress("127.0.0.1:\(port)")!) { _ in HTTPResponse(.ok, body: "") }
            }
        }
    }
}
