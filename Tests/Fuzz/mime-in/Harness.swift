// Fuzz target: the inbound MIME parser (`chikaya mail-in`) and what mail-in reads from a parsed
// message: bounces, auto-replies, the new text of a reply and its command. Built with
// Sources/Mail.
import Foundation

/// Depth of the tree under `part` (0 for a leaf), attached messages counted as a level.
func depth(_ part: MIMEPart) -> Int {
    let children = part.parts + (part.message.map { [$0] } ?? [])
    return children.map { depth($0) + 1 }.max() ?? 0
}

let fuzzLimits = MIMELimits(maxBytes: 64 * 1024, maxDepth: 8, maxParts: 200, maxHeaderFields: 500)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIMEParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let message: MIMEPart
    do {
        message = try MIMEParser(limits: fuzzLimits).parse(bytes)
    } catch {
        _ = error.description
        return 0
    }
    // The limits hold for what is accepted.
    let all = message.allParts
    precondition(all.count <= fuzzLimits.maxParts + 1, "\(all.count) parts accepted")
    precondition(depth(message) <= fuzzLimits.maxDepth + 1, "a tree \(depth(message)) levels deep accepted")
    for part in all {
        precondition(part.headers.fields.count <= fuzzLimits.maxHeaderFields, "a part with \(part.headers.fields.count) fields")
        precondition(!part.contentType.type.isEmpty && !part.contentType.subtype.isEmpty, "an empty content type")
        _ = part.text
        _ = part.isAttachment
    }
    // What mail-in reads from it: none of these may trap.
    _ = message.headers.decoded("Subject")
    _ = message.headers.decoded("From")
    _ = AutoReplyDetector.reason(message.headers, envelopeSender: nil)
    _ = DeliveryReportParser.looksLikeBounce(message.headers)
    if let report = DeliveryReportParser.parse(message) {
        for failure in report.failures { precondition(!failure.recipient.isEmpty, "a failure without a recipient") }
    }
    if let text = message.bodyText {
        let separated = QuotedTextSeparator.separate(text)
        precondition(separated.newText.utf8.count <= text.utf8.count + 1, "the new text is longer than the body")
        _ = ReplyCommandParser.parse(separated.newText)
    }
    return 0
}
