import Testing
@testable import ChikayaCore

/// The text of a released migration never changes (databases that applied it refuse a program
/// whose text differs). Pinning the checksums makes an accidental edit fail here, in the
/// developer's run, instead of on the city's database.
@Suite struct ReleasedMigrationUnitTests {
    static let released: [Int: String] = [
        1: "e91b50be0cc03084",
        2: "388ef22f22d8055b",
        3: "aa3ce9f668d79d21",
        4: "87245558dafaf74d",
        5: "c968da83c27ac5bd",
        6: "5c3044b9d0b0f0c1",
        7: "0015434bda3477e9",
        8: "471d3a54c3ea4014",
        10: "9be9e720258435c6",
        11: "13ef770d92f08c91",
        12: "3a68fcf4d5a1bba7",
        13: "a6746d099aef3cff",
        14: "c06fb0787f8e7721",
        15: "2a9b41fba24c80cc",
        16: "35d208c362a8b69a",
        17: "8ff40cd55cfa318d",
        18: "c73c0d8c24970d58",
        19: "2997b8b1d29ca046",
        20: "2a325e054bfb9f1a",
    ]

    @Test func releasedMigrationsAreUnchanged() {
        for migration in Migrations.all {
            guard let pinned = Self.released[migration.version] else { continue }
            #expect(migration.checksum == pinned,
                    "migration \(migration.version) (\(migration.name)) was edited; add a new migration instead")
        }
    }

    @Test func versionsAreUniqueAndAscending() {
        let versions = Migrations.all.map(\.version)
        #expect(versions == versions.sorted())
        #expect(Set(versions).count == versions.count)
    }
}
