// Fuzz target: the SMTP reply parser, fed line by line as the connection does. Built with
// Sources/Mail.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReplyParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var parser = SMTPReplyParser()
    for line in bytes.split(separator: 10, omittingEmptySubsequences: false) {
        var text = Array(line)
        if text.last == 13 { text.removeLast() }
        do {
            guard let reply = try parser.feed(text) else { continue }
            precondition((200...599).contains(reply.code), "reply code \(reply.code)")
            precondition(!reply.lines.isEmpty, "a reply without lines")
            _ = reply.description
        } catch {
            // A malformed line ends the session; a new one starts clean.
            parser = SMTPReplyParser()
        }
    }
    return 0
}
