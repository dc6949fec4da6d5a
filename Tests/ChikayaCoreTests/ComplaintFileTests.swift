import Testing
@testable import ChikayaCore

/// The TSV format of `chikaya submit --file`: the corpus columns, plus optional citizen columns.
@Suite struct ComplaintFileUnitTests {
    let header = "id\tlang\tarrondissement\tdepartment\ttext"

    @Test func readsTheCorpusFormat() throws {
        let text = """
            \(header)
            d001\tfr\tanfa\tvoirie\tNid de poule énorme boulevard Zerktouni
            d002\tar\t\ttriage\tخلاف مع جاري حول الحائط المشترك بيننا
            d003\tdarija-ar\tsidi-othmane\tproprete\tالزبل ما تجمعش هادي سيمانة
            d004\tmixed\tmaarif\tetat-civil\tLe fonctionnaire f l'état civil kaytkellem m3a nas b l3ib

            """
        let complaints = try ComplaintFile.parse(text, fileName: "dev.tsv")
        #expect(complaints == [
            NewComplaint(body: "Nid de poule énorme boulevard Zerktouni", language: "fr", arrondissement: "anfa"),
            NewComplaint(body: "خلاف مع جاري حول الحائط المشترك بيننا", language: "ar"),
            // The corpus's finer labels are mapped to what the app declares: ar, fr or nothing.
            NewComplaint(body: "الزبل ما تجمعش هادي سيمانة", language: "ar", arrondissement: "sidi-othmane"),
            NewComplaint(body: "Le fonctionnaire f l'état civil kaytkellem m3a nas b l3ib", language: nil, arrondissement: "maarif"),
        ])
    }

    @Test func readsCitizenColumnsAndWindowsLineEnds() throws {
        let text = "text\tanonymous\tname\temail\tphone\tnotify_language\r\n"
            + "Fuite d'eau\tfalse\tAmina\tamina@example.ma\t0600000000\tfr\r\n"
            + "Lampadaire éteint\ttrue\t\t\t\t\r\n"
        let complaints = try ComplaintFile.parse(text, fileName: "c.tsv")
        #expect(complaints == [
            NewComplaint(body: "Fuite d'eau", citizenName: "Amina", citizenEmail: "amina@example.ma",
                         citizenPhone: "0600000000", notifyLanguage: "fr"),
            NewComplaint(body: "Lampadaire éteint", anonymous: true),
        ])
    }

    @Test func badArrondissementNamesTheLineAndReturnsNothing() throws {
        let text = """
            \(header)
            d001\tfr\tanfa\tvoirie\tNid de poule
            d002\tfr\tatlantis\tvoirie\tTrottoir cassé
            d003\tfr\tmaarif\tvoirie\tFeu rouge en panne
            """
        // parse throws: the good lines around the bad one are not returned for a partial insert.
        let problems = try #require(throws: ComplaintFile.Problems.self) {
            try ComplaintFile.parse(text, fileName: "in.tsv")
        }
        #expect(problems.lines.count == 1)
        let line = try #require(problems.lines.first)
        #expect(line.hasPrefix("in.tsv:3: "))
        #expect(line.contains("unknown arrondissement 'atlantis'"))
    }

    @Test func everyBadLineIsReported() throws {
        let long = String(repeating: "é", count: 10_001)
        let text = """
            text\tarrondissement\tanonymous\tname\tnotify_language
            \tanfa\tfalse\t\t
            ok\tanfa\tmaybe\t\t
            ok\tanfa\ttrue\tAmina\t
            ok\tanfa\tfalse\t\ten
            \(long)\tanfa\tfalse\t\t
            too\tfew
            fine\tanfa\tfalse\t\tar
            """
        let problems = try #require(throws: ComplaintFile.Problems.self) {
            try ComplaintFile.parse(text, fileName: "f.tsv")
        }
        #expect(problems.lines.map { String($0.prefix(7)) } == ["f.tsv:2", "f.tsv:3", "f.tsv:4", "f.tsv:5", "f.tsv:6", "f.tsv:7"])
        #expect(problems.lines[0].contains("empty"))
        #expect(problems.lines[1].contains("'maybe'"))
        #expect(problems.lines[2].contains("anonymous"))
        #expect(problems.lines[3].contains("'en'"))
        #expect(problems.lines[4].contains("10001"))
        #expect(problems.lines[5].contains("expected 5"))
    }

    @Test func fileWithoutTextColumnOrEmptyIsRefused() throws {
        let noText = try #require(throws: ComplaintFile.Problems.self) {
            try ComplaintFile.parse("id\tlang\nx\tfr\n", fileName: "h.tsv")
        }
        #expect(noText.lines.first?.hasPrefix("h.tsv:1: ") == true)
        let empty = try #require(throws: ComplaintFile.Problems.self) {
            try ComplaintFile.parse("\n\n", fileName: "e.tsv")
        }
        #expect(empty.lines.first?.hasPrefix("e.tsv: ") == true)
    }

    @Test func headerOnlyFileHasNoComplaints() throws {
        #expect(try ComplaintFile.parse(header + "\n", fileName: "h.tsv").isEmpty)
    }
}
