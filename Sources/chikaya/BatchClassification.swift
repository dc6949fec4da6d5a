import Foundation
import Routing
#if canImport(Glibc)
import Glibc
#endif

/// `classify --batch`: streams the TSV in blocks of 1 MiB, classifies each row straight from the
/// block's bytes (no String per row) and writes the answers in blocks, so that neither I/O nor
/// memory grows with the file (it used to read the whole file first: 201 MB of RSS for a million
/// rows).
enum BatchClassification {
    static let blockSize = 1 << 20

    static func run(path: String, classifier: Classifier) throws(CLIError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .noInput("cannot read '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let codes = CityDirectory.departments.map { Array($0.code.utf8) }
        var workspace = Classifier.Workspace()
        // `pending` holds the bytes of a row cut by the end of a block, then the next block.
        var pending: [UInt8] = []
        pending.reserveCapacity(blockSize * 2)
        var out: [UInt8] = []
        out.reserveCapacity(blockSize / 2)
        var lineNumber = 0
        var atEnd = false
        while !atEnd {
            let before = pending.count
            pending.append(contentsOf: repeatElement(0, count: blockSize))
            let got = pending.withUnsafeMutableBufferPointer { buffer in
                readFully(fd, into: UnsafeMutableRawPointer(buffer.baseAddress! + before), count: blockSize)
            }
            guard got >= 0 else { throw .noInput("cannot read '\(path)': \(String(cString: strerror(errno)))") }
            pending.removeLast(blockSize - got)
            atEnd = got == 0
            var failure: CLIError?
            // Every whole line of the buffer; at the end of the file, the last line too.
            let consumed = pending.withUnsafeBufferPointer { bytes -> Int in
                var lineStart = 0
                let n = bytes.count
                while lineStart < n {
                    var lineEnd = lineStart
                    while lineEnd < n && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                    if lineEnd == n && !atEnd { return lineStart }
                    lineNumber += 1
                    defer { lineStart = lineEnd + 1 }
                    var end = lineEnd
                    if end > lineStart && bytes[end - 1] == 0x0D { end -= 1 }
                    if end == lineStart { continue }
                    if let error = classify(line: UnsafeBufferPointer(rebasing: bytes[lineStart..<end]), number: lineNumber,
                                            path: path, classifier: classifier, codes: codes, workspace: &workspace, out: &out) {
                        failure = error
                        return n
                    }
                }
                return n
            }
            if let failure { throw failure }
            pending.removeFirst(min(consumed, pending.count))
            if out.count >= blockSize / 2 || atEnd {
                try writeAll(out)
                out.removeAll(keepingCapacity: true)
            }
        }
    }

    /// One row: fields id, lang, arrondissement, department, text (the rest).
    private static func classify(line bytes: UnsafeBufferPointer<UInt8>, number: Int, path: String, classifier: Classifier,
                                 codes: [[UInt8]], workspace: inout Classifier.Workspace, out: inout [UInt8]) -> CLIError? {
        var tabs = (0, 0, 0, 0)
        var found = 0
        var k = 0
        while k < bytes.count && found < 4 {
            if bytes[k] == 0x09 {
                switch found {
                case 0: tabs.0 = k
                case 1: tabs.1 = k
                case 2: tabs.2 = k
                default: tabs.3 = k
                }
                found += 1
            }
            k += 1
        }
        guard found == 4 else {
            return .dataError("\(path):\(number): expected 5 tab-separated fields (id lang arrondissement department text)")
        }
        let id = UnsafeBufferPointer(rebasing: bytes[..<tabs.0])
        if number == 1 && id.elementsEqual("id".utf8) { return nil }
        let area = UnsafeBufferPointer(rebasing: bytes[(tabs.1 + 1)..<tabs.2])
        // Codes are short enough to be small strings: no allocation per line.
        let bit = area.isEmpty ? 0 : CityDirectory.arrondissementBit(String(decoding: area, as: UTF8.self))
        let text = UnsafeBufferPointer(rebasing: bytes[(tabs.3 + 1)...])
        let decision = classifier.decide(utf8: text, arrondissementBit: bit, workspace: &workspace)
        out.append(contentsOf: id)
        out.append(0x09)
        out.append(contentsOf: codes[decision.departmentIndex])
        out.append(0x09)
        appendFixed3(decision.confidence, to: &out)
        out.append(0x0A)
        return nil
    }

    /// Reads until `count` bytes or the end of the file; the number read, -1 on an error.
    private static func readFully(_ fd: Int32, into base: UnsafeMutableRawPointer, count: Int) -> Int {
        var total = 0
        while total < count {
            let n = read(fd, base + total, count - total)
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// write(2) to fd 1 in a loop for partial writes (print() would buffer through a String).
    private static func writeAll(_ bytes: [UInt8]) throws(CLIError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBufferPointer { write(1, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .failure("cannot write the results: \(String(cString: strerror(errno)))")
            }
            written += n
        }
    }

    /// "0.857": three decimals, written as bytes.
    static func appendFixed3(_ value: Double, to out: inout [UInt8]) {
        let scaled = Int((min(max(value, 0), 1) * 1000).rounded())
        out.append(0x30 + UInt8(scaled / 1000))
        out.append(0x2E)
        out.append(0x30 + UInt8(scaled / 100 % 10))
        out.append(0x30 + UInt8(scaled / 10 % 10))
        out.append(0x30 + UInt8(scaled % 10))
    }
}
