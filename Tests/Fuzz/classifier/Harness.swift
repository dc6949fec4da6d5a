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

/// Kept across inputs, with a small token cache so that it fills and starts again often: the
/// cached path must decide as `classify` (which uses no cache) does. libFuzzer calls the target
/// from one thread.
nonisolated(unsafe) var cachedWorkspace = Classifier.Workspace(tokenCache: 64)

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
    var copy = text
    let cached = copy.withUTF8 { shippedClassifier.decide(utf8: $0, arrondissement: area, workspace: &cachedWorkspace) }
    precondition(cached.department == result.department && cached.confidence == result.confidence,
                 "the token cache changed the decision: \(cached.department) instead of \(result.department)")
    for match in result.matches {
        precondition(match.utf8Range.lowerBound >= 0 && match.utf8Range.upperBound <= text.utf8.count,
                     "a match outside the original text")
    }
    return 0
}
