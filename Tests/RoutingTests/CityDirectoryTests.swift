import Foundation
import Testing
@testable import Routing

/// The compiled city lists are the city's reference files, row for row (config/city/).
struct CityDirectoryTests {
    static let city = ShippedRulesTests.repo.appendingPathComponent("config/city")

    /// The rows of a reference TSV file, header dropped, each split on tabs.
    static func rows(_ name: String) throws -> [[String]] {
        let text = try String(contentsOf: city.appendingPathComponent(name), encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).dropFirst().map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    @Test func departmentsAreTheCitysList() throws {
        let expected = try Self.rows("departments.tsv")
        let compiled = CityDirectory.departments.map { [$0.code, $0.nameFR, $0.nameAR, $0.scope] }
        #expect(compiled == expected)
    }

    @Test func arrondissementsAreTheCitysList() throws {
        let expected = try Self.rows("arrondissements.tsv")
        let compiled = CityDirectory.arrondissements.map { [$0.code, $0.nameFR, $0.nameAR] }
        #expect(compiled == expected)
    }

    /// The byte forms (a batch's field, a database value read in place) agree with the String
    /// forms, unknown and empty codes included.
    @Test func codesReadAsBytesMeanWhatTheirStringsMean() {
        let codes = CityDirectory.arrondissements.map(\.code) + CityDirectory.departments.map(\.code)
            + ["", "anfa ", "Anfa", "voiri", "voiriee", "triage"]
        for code in codes {
            var copy = code
            copy.withUTF8 { bytes in
                #expect(CityDirectory.arrondissementBit(utf8: bytes) == CityDirectory.arrondissementBit(code), "\(code)")
                #expect(CityDirectory.departmentIndex(utf8: bytes) == CityDirectory.departments.firstIndex { $0.code == code },
                        "\(code)")
            }
        }
    }

    @Test func eachArrondissementHasABitOfItsOwnAndTheSetReadsBack() {
        let bits = CityDirectory.arrondissements.map { CityDirectory.arrondissementBit($0.code) }
        #expect(Set(bits).count == bits.count)
        #expect(bits.allSatisfy { $0 != 0 && $0 & ($0 - 1) == 0 })
        #expect(CityDirectory.arrondissementBit(nil) == 0)
        #expect(CityDirectory.arrondissementBit("atlantis") == 0)
        let set = CityDirectory.arrondissementBit("anfa") | CityDirectory.arrondissementBit("ain-chock")
        #expect(CityDirectory.arrondissementCodes(in: set) == ["ain-chock", "anfa"])
        #expect(CityDirectory.arrondissementCodes(in: 0).isEmpty)
    }
}
