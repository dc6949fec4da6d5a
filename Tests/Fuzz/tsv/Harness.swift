// Fuzz target: the TSV intake parser (`chikaya submit --file`). Built with Sources/ChikayaCore.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzComplaintFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let complaints = try ComplaintFile.parse(text, fileName: "fuzz.tsv")
        for complaint in complaints { _ = complaint }
    } catch {
        precondition(!error.lines.isEmpty, "an error says what is wrong")
        for problem in error.lines {
            // "fuzz.tsv: the file is empty" is the one problem that has no line to name.
            guard problem != error.lines.first || !problem.hasPrefix("fuzz.tsv: ") else { continue }
            let rest = problem.dropFirst("fuzz.tsv:".count)
            precondition(problem.hasPrefix("fuzz.tsv:"), "a problem without the file name: \(problem)")
            let number = rest.prefix(while: \.isNumber)
            precondition(Int(number).map { $0 >= 1 } ?? false, "a problem without a line number: \(problem)")
        }
    }
    return 0
}
