// Fuzz target: the configuration file parser. Built with Sources/ChikayaCore.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let configuration = try Configuration.parse(text, file: "fuzz.conf", environment: [:])
        precondition(configuration.notifierBatch >= 1 && configuration.leaseSeconds > 0, "a value outside its bounds")
    } catch {
        precondition(!error.problems.isEmpty, "an error says what is wrong")
        for problem in error.problems {
            precondition(problem.hasPrefix("fuzz.conf:"), "a problem without the file name: \(problem)")
            let number = problem.dropFirst("fuzz.conf:".count).prefix(while: \.isNumber)
            precondition(Int(number).map { $0 >= 1 } ?? false, "a problem without a line number: \(problem)")
        }
    }
    return 0
}
