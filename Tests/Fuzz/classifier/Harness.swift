// Fuzz target: text normalisation and the classifier, with the shipped rules
// (CHIKAYA_FUZZ_RULES, set by scripts/fuzz). Built with Sources/Routing.
import Foundation

let shippedClassifier: Classifier = {
    let path = ProcessInfo.processInfo.environment["CHIKAYA_FUZZ_RULES"] ?? "config/routing-rules.conf"
    do {
        return Classifier(rules: try RuleSet.load(path: path))
    } catch {
        preconditionFailure("cannot load the rules for fuzzing: \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClassifier(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // The first byte picks an arrondissement (or none), the rest is the complaint.
    let areas = CityDirectory.arrondissements.map(\.code)
    let area: String? = bytes.first.flatMap { Int($0) < areas.count ? areas[Int($0)] : nil }
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    let result = shippedClassifier.classify(text, arrondissement: area)
    precondition(CityDirectory.departmentCodes.contains(result.department), "unknown department \(result.department)")
    precondition(result.confidence.isFinite && (0...1).contains(result.confidence), "confidence \(result.confidence)")
    precondition(result.runnerUp != result.department, "the runner-up is the winner")
    for match in result.matches {
        precondition(match.utf8Range.lowerBound >= 0 && match.utf8Range.upperBound <= text.utf8.count,
                     "a match outside the original text")
    }
    return 0
}
