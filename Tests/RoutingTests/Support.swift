@testable import Routing

/// The normalised text of `s`, tokens separated by spaces, as the matcher sees it.
func normalized(_ s: String) -> String {
    var tokenizer = Tokenizer()
    tokenizer.tokenize(s)
    return tokenizer.normalizedText
}

/// A rule set from inline source; the test fails (by throwing) when it does not parse.
func rules(_ source: String) throws -> RuleSet {
    try RuleSet.parse(source: source, fileName: "test.conf")
}

/// The department a one-off rule set picks for `text`.
func route(_ text: String, _ source: String, arrondissement: String? = nil) throws -> String {
    Classifier(rules: try rules(source)).classify(text, arrondissement: arrondissement).department
}
