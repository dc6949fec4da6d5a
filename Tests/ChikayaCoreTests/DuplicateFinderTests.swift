import Testing
@testable import ChikayaCore

/// The choice of the earlier complaint, without a database.
@Suite struct DuplicateFinderUnitTests {
    let anfa = DuplicateGroup(arrondissement: "anfa", department: "proprete")
    let maarif = DuplicateGroup(arrondissement: "maarif", department: "proprete")

    @Test func bestEarlierOfTheSameGroupWins() {
        let candidates = [
            DuplicateCandidate(group: anfa, complaintID: 1, textKeys: [1, 2, 3, 4]),
            DuplicateCandidate(group: anfa, complaintID: 2, textKeys: [1, 2, 3, 9]),
            DuplicateCandidate(group: maarif, complaintID: 3, textKeys: [1, 2, 3, 4, 5]),
            // Not earlier: a complaint submitted after this one is never its original.
            DuplicateCandidate(group: anfa, complaintID: 20, textKeys: [1, 2, 3, 4, 5]),
        ]
        let items = [DuplicateFinder.Item(complaintID: 10, group: anfa, textKeys: [1, 2, 3, 4, 5])]
        let links = DuplicateFinder.links(for: items, candidates: candidates, threshold: 0.5)
        #expect(links == [DuplicateLink(complaintID: 1, similarity: 0.8)])
    }

    @Test func equalSimilarityPrefersTheOlderAndTheBatchLinksToItself() {
        let candidates = [
            DuplicateCandidate(group: anfa, complaintID: 5, textKeys: [1, 2]),
            DuplicateCandidate(group: anfa, complaintID: 4, textKeys: [1, 2]),
        ]
        let items = [
            DuplicateFinder.Item(complaintID: 12, group: maarif, textKeys: [7, 8]),
            DuplicateFinder.Item(complaintID: 11, group: maarif, textKeys: [7, 8]),
            DuplicateFinder.Item(complaintID: 13, group: anfa, textKeys: [1, 2]),
            DuplicateFinder.Item(complaintID: 14, group: nil, textKeys: [1, 2]),
        ]
        let links = DuplicateFinder.links(for: items, candidates: candidates, threshold: 0.5)
        #expect(links == [DuplicateLink(complaintID: 11, similarity: 1), nil, DuplicateLink(complaintID: 4, similarity: 1), nil])
    }

    @Test func belowThresholdAndEmptyTextsAreNotLinked() {
        let candidates = [DuplicateCandidate(group: anfa, complaintID: 1, textKeys: [1, 2, 3, 4])]
        let items = [DuplicateFinder.Item(complaintID: 2, group: anfa, textKeys: [1, 5, 6]),
                     DuplicateFinder.Item(complaintID: 3, group: anfa, textKeys: [])]
        #expect(DuplicateFinder.links(for: items, candidates: candidates, threshold: 0.5) == [nil, nil])
        #expect(DuplicateCandidate.parseKeys("{1,-2,30}") == [1, -2, 30])
        #expect(DuplicateCandidate.parseKeys("{}") == [])
        #expect(DuplicateCandidate.parseKeys("{2147483647,-2147483648}") == [Int32.max, Int32.min])
        // What is not a whole Int32 is skipped, the rest kept.
        #expect(DuplicateCandidate.parseKeys("{7,2147483648,x1,-,3-4,99999999999999,8}") == [7, 8])
    }

    @Test func theKeyCacheKeepsTheNewestWithinItsCapacity() {
        var cache = DuplicateKeyCache(capacity: 3)
        for id in Int64(1)...5 { cache.insert(id, group: id % 2 == 0 ? anfa : maarif, keys: [Int32(id)]) }
        #expect(cache.count == 3)
        #expect(cache[1] == nil && cache[2] == nil)
        #expect(cache[5] == [5])
        #expect(cache.ids(in: [anfa]) == [4])
        #expect(Set(cache.ids(in: [anfa, maarif])) == [3, 4, 5])
        // Inserting a held id again changes nothing and evicts nothing.
        cache.insert(3, group: maarif, keys: [99])
        #expect(cache[3] == [3] && cache.count == 3)
        for id in Int64(6)...20 { cache.insert(id, group: anfa, keys: []) }
        #expect(Set(cache.ids(in: [anfa, maarif])) == [18, 19, 20])
        #expect(DuplicateKeyCache(capacity: 0).count == 0)
    }
}
