/// One keyword or exclusion line item after parsing, with where it was written.
struct Rule: Sendable {
    var term: String
    var department: Int          // index into CityDirectory.departments
    var weight: Double
    var line: Int
    var column: Int
    var isExclusion: Bool
    /// A `[landmarks]` phrase ("pres de", "قرب"): keywords just after it name a place, and count
    /// `weight` (a factor) of their own weight. `department` is unused.
    var isLandmark: Bool = false
    var arrondissementMask: UInt32  // 0: everywhere; else bit i = CityDirectory.arrondissements[i]
    var patterns: [Int32]           // the word patterns, in order, that make the phrase
    var canonical: String           // normalised form, for duplicate detection and the version hash
}

/// How one word of a keyword is compared with a token.
struct WordPattern: Hashable, Sendable {
    var skeleton: Bool
    var prefix: Bool
    var key: [UInt32]
}

/// The fields of a `Rule` that scoring reads, as plain values.
struct RuleFacts: Sendable {
    var department: Int
    var weight: Double
    var arrondissementMask: UInt32
    var isExclusion: Bool
    var isLandmark: Bool
}
