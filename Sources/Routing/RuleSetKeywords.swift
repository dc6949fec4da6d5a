/// One keyword or exclusion of a rule set as an administrator wrote it, for comparing two files.
public struct RuleKeyword: Sendable, Hashable {
    public let department: String
    /// The term as written in the file.
    public let term: String
    /// The normalised form: two spellings that normalise alike are the same keyword.
    public let canonical: String
    public let weight: Double
    public let isExclusion: Bool
    /// Arrondissement codes the keyword is restricted to; empty for the whole city.
    public let arrondissements: [String]
}

extension RuleSet {
    /// Every keyword and exclusion, in file order.
    public var keywords: [RuleKeyword] {
        rules.map { rule in
            let areas = CityDirectory.arrondissementCodes(in: rule.arrondissementMask)
            // Landmark phrases belong to no department; they are listed under their section.
            let section = rule.isLandmark ? "landmarks" : CityDirectory.departments[rule.department].code
            return RuleKeyword(department: section, term: rule.term,
                               canonical: rule.canonical, weight: rule.weight, isExclusion: rule.isExclusion,
                               arrondissements: areas)
        }
    }
}
