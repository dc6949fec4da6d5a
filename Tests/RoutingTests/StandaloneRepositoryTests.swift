import Foundation
import Testing

/// A clone must build, test and run with nothing beside it: no tracked file may reach for the
/// project's shared folder next to the repository. (`scripts/check-standalone` proves the same
/// the long way, by running `scripts/test` in a clone that has nothing beside it.)
struct StandaloneRepositoryTests {
    @Test func noTrackedFileReadsTheSharedFolderBesideTheRepository() throws {
        let repo = ShippedRulesTests.repo
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "-C", repo.path, "ls-files", "-z"]
        let out = Pipe()
        git.standardOutput = out
        try git.run()
        let listing = out.fileHandleForReading.readDataToEndOfFile()
        git.waitUntilExit()
        #expect(git.terminationStatus == 0)
        let files = listing.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        #expect(files.count > 50, "git ls-files listed too few files to be this repository")
        // The needle is split so that this file does not match itself.
        let needle = ".." + "/shared"
        var offenders: [String] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: repo.appendingPathComponent(file).path),
                  let text = String(data: data, encoding: .utf8) else { continue }
            if text.contains(needle) { offenders.append(file) }
        }
        #expect(offenders.isEmpty, "these files refer to the shared folder beside the repository: \(offenders)")
    }
}
