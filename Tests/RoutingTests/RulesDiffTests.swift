import Testing
@testable import Routing

/// What `rules diff` reports between two rule sets, without a database.
struct RulesDiffTests {
    @Test func addedRemovedAndReweightedKeywordsPerDepartmentInDirectoryOrder() throws {
        let old = try rules("""
            [eau-assainissement]
            2: fuite
            1: robinet
            [voirie]
            2: trou
            """)
        let new = try rules("""
            [voirie]
            3 @anfa: trou
            [eau-assainissement]
            2:   fuite
            1: egout
            exclude: fuite de gaz
            """)
        let diff = RulesDiff(from: old, to: new)
        #expect(diff.departments.map(\.code) == ["voirie", "eau-assainissement"])
        let water = try #require(diff.departments.last)
        #expect(water.added.map(\.term) == ["egout", "fuite de gaz"])
        #expect(water.removed.map(\.term) == ["robinet"])
        #expect(water.reweighted.isEmpty)
        let road = try #require(diff.departments.first)
        #expect(road.reweighted.count == 1)
        #expect(road.reweighted.first?.old.weight == 2 && road.reweighted.first?.new.weight == 3)
        #expect(road.reweighted.first?.new.arrondissements == ["anfa"])
        #expect(RulesDiff(from: new, to: new).departments.isEmpty)
    }
}
