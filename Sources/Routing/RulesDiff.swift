/// Keywords added, removed and changed per department between two rule sets. A keyword is the
/// same when its normalised form, department and kind (keyword or exclusion) are, so respelling
/// whitespace or moving lines is no change.
public struct RulesDiff: Sendable {
    /// One department's changes.
    public struct Department: Sendable {
        public let code: String
        public internal(set) var added: [RuleKeyword] = []
        public internal(set) var removed: [RuleKeyword] = []
        public internal(set) var reweighted: [(old: RuleKeyword, new: RuleKeyword)] = []
    }

    public let departments: [Department]

    public init(from old: RuleSet, to new: RuleSet) {
        struct Key: Hashable {
            let department: String
            let canonical: String
            let exclusion: Bool
        }
        func index(_ rules: RuleSet) -> [Key: RuleKeyword] {
            var map: [Key: RuleKeyword] = [:]
            for k in rules.keywords {
                map[Key(department: k.department, canonical: k.canonical, exclusion: k.isExclusion)] = k
            }
            return map
        }
        let before = index(old), after = index(new)
        var byDepartment: [String: Department] = [:]
        for (key, k) in after where before[key] == nil {
            byDepartment[key.department, default: Department(code: key.department)].added.append(k)
        }
        for (key, k) in before {
            guard let now = after[key] else {
                byDepartment[key.department, default: Department(code: key.department)].removed.append(k)
                continue
            }
            if now.weight != k.weight || now.arrondissements != k.arrondissements {
                byDepartment[key.department, default: Department(code: key.department)].reweighted.append((k, now))
            }
        }
        let order = Dictionary(uniqueKeysWithValues: CityDirectory.departments.enumerated().map { ($1.code, $0) })
        departments = byDepartment.values.map { d in
            var d = d
            d.added.sort { $0.term < $1.term }
            d.removed.sort { $0.term < $1.term }
            d.reweighted.sort { $0.0.term < $1.0.term }
            return d
        }.sorted { (order[$0.code] ?? .max) < (order[$1.code] ?? .max) }
    }
}
