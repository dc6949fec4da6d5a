import Foundation
import Routing
#if canImport(Glibc)
import Glibc
#endif

/// `classify --batch`: reads the whole TSV, classifies each row straight from the file's bytes
/// (no String per row) and writes the answers in one buffer, so that I/O does not dominate.
enum BatchClassification {
    static func run(path: String, classifier: Classifier) throws(CLIError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .noInput("cannot read '\(path)': \(error.localizedDescription)")
        }
        let codes = CityDirectory.departments.map { Array($0.code.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(data.count / 4)
        var failure: CLIError?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var workspace = Classifier.Workspace()
            var lineStart = 0
            var lineNumber = 0
            let n = bytes.count
            while lineStart < n {
                var lineEnd = lineStart
                while lineEnd < n && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                lineNumber += 1
                defer { lineStart = lineEnd + 1 }
                var end = lineEnd
                if end > lineStart && bytes[end - 1] == 0x0D { end -= 1 }
                if end == lineStart { continue }
                // Fields: id, lang, arrondissement, department, text (the rest).
                var tabs: [Int] = []
                var k = lineStart
                while k < end && tabs.count < 4 {
                    if bytes[k] == 0x09 { tabs.append(k) }
                    k += 1
                }
                guard tabs.count == 4 else {
                    failure = .dataError("\(path):\(lineNumber): expected 5 tab-separated fields (id lang arrondissement department text)")
                    return
                }
                let id = UnsafeBufferPointer(rebasing: bytes[lineStart..<tabs[0]])
                if lineNumber == 1 && id.elementsEqual("id".utf8) { continue }
                let area = UnsafeBufferPointer(rebasing: bytes[(tabs[1] + 1)..<tabs[2]])
                // Codes are short enough to be small strings: no allocation per line.
                let bit = area.isEmpty ? 0 : CityDirectory.arrondissementBit(String(decoding: area, as: UTF8.self))
                let text = UnsafeBufferPointer(rebasing: bytes[(tabs[3] + 1)..<end])
                let decision = classifier.decide(utf8: text, arrondissementBit: bit, workspace: &workspace)
                out.append(contentsOf: id)
                out.append(0x09)
                out.append(contentsOf: codes[decision.departmentIndex])
                out.append(0x09)
                appendFixed3(decision.confidence, to: &out)
                out.append(0x0A)
            }
        }
        if let failure { throw failure }
        // print() may have buffered nothing before; write(2) to fd 1 in a loop for partial writes.
        var written = 0
        while written < out.count {
            let n = out.withUnsafeBufferPointer { write(1, $0.baseAddress! + written, $0.count - written) }
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
