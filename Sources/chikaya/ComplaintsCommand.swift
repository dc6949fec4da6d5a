import ChikayaCore
import Foundation

/// `chikaya complaints`: what department staff do with complaints: list, show, move through the
/// lifecycle, reassign. The lifecycle's rules are the database's; this prints what it decided.
enum ComplaintsCommand: Command {
    static let name = "complaints"
    static let summary = "list and show complaints, change their status, reassign them"
    static let usage = """
    usage: chikaya complaints list [--department D] [--status S] [--arrondissement A] [--older-than 3d]
                                   [--late] [--limit N] [--format table|tsv|json]
           chikaya complaints show REFERENCE
           chikaya complaints set-status REFERENCE STATUS [--note TEXT]
           chikaya complaints reassign REFERENCE DEPARTMENT --note TEXT

      list        newest first: reference, age, status, department, arrondissement, the earlier
                  complaint it probably repeats (duplicate of) and the first words of the text
                  (default --limit 50, at most 100000); --late keeps those past their
                  department's time to first action or to resolution
      show        the complaint with the citizen's contact details, its attachments, the routing
                  decision and its explanation (with a possible duplicate), every event, the
                  citizen's replies by mail (notes) and every notification
      set-status  move to in_progress, resolved, rejected (needs --note: the reason the citizen
                  reads) or back to in_progress (reopen); the database refuses any other move
      reassign    give the complaint to another department (a manual correction); the note is
                  recorded with the previous and the new department, and the citizen is told

    statuses: \(ComplaintStatus.all.joined(separator: ", "))
    lifecycle: received -> assigned (router); assigned -> in_progress | resolved | rejected;
               in_progress -> resolved | rejected; resolved | rejected -> in_progress (reopen)

    A staff login sees and changes only the complaints of its assignments (chikaya staff); the
    history records that login as the one who acted.

    exit codes: 0 done; 64 bad command line; 65 unknown reference or refused change;
                69 database unavailable; 77 not permitted for this database login

    options:
      --note TEXT         why (the reason a citizen reads on a rejection)
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "complaints")
        guard let sub = arguments.positional() else {
            throw CLIError.usage("complaints: missing sub-command (list, show, set-status or reassign); see 'chikaya help complaints'")
        }
        switch sub {
        case "list": return try list(&arguments, runtime)
        case "show": return try show(&arguments, runtime)
        case "set-status": return try setStatus(&arguments, runtime)
        case "reassign": return try reassign(&arguments, runtime)
        default:
            throw CLIError.usage("complaints: unknown sub-command '\(sub)' (list, show, set-status or reassign)")
        }
    }

    // MARK: list

    private static func list(_ arguments: inout Arguments, _ runtime: Runtime) throws -> Int32 {
        var filter = ComplaintFilter()
        filter.department = try arguments.option("--department")
        filter.status = try arguments.option("--status")
        filter.arrondissement = try arguments.option("--arrondissement")
        if let age = try arguments.option("--older-than") {
            filter.olderThanSeconds = try DurationArgument.seconds(age, option: "--older-than", command: "complaints list")
        }
        filter.lateOnly = arguments.flag("--late")
        filter.limit = try arguments.intOption("--limit", default: 50, range: 1...100_000)
        let format = try OutputFormat.parse(try arguments.option("--format"), allowed: [.table, .tsv, .json],
                                            command: "complaints list")
        try arguments.finish()
        if let status = filter.status, !ComplaintStatus.all.contains(status) {
            throw CLIError.usage("complaints list: unknown status '\(status)' (\(ComplaintStatus.all.joined(separator: ", ")))")
        }
        if let department = filter.department, !CityDirectory.departmentCodes.contains(department) {
            throw CLIError.usage("complaints list: unknown department '\(department)' (\(CityDirectory.departments.map(\.code).joined(separator: ", ")))")
        }
        if let area = filter.arrondissement, !CityDirectory.arrondissementCodes.contains(area) {
            throw CLIError.usage("complaints list: unknown arrondissement '\(area)'")
        }
        let db = try runtime.connect(role: "complaints")
        let complaints: [ComplaintSummary]
        do { complaints = try ComplaintQueries.list(filter, on: db) } catch { throw CLIError.database(error) }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            encoder.keyEncodingStrategy = .convertToSnakeCase
            let listed = complaints.map { ListedComplaint($0) }
            print(TextOutput.jsonSafe(String(decoding: try encoder.encode(listed), as: UTF8.self)))
        case .tsv:
            print("reference\tsubmitted_at\tage_seconds\tstatus\tdepartment\tarrondissement\tduplicate_of\texcerpt")
            for c in complaints {
                let fields = [c.reference, c.submittedAt.formatted(.iso8601), String(Int(c.ageSeconds)), c.status,
                              c.department ?? "", c.arrondissement ?? "", c.duplicateOf ?? "", firstWords(c.excerpt)]
                print(fields.map(tsvField).joined(separator: "\t"))
            }
        case .table:
            if complaints.isEmpty {
                print("no complaint matches")
                return 0
            }
            var table = TextTable(["REFERENCE", "AGE", "STATUS", "DEPARTMENT", "ARRONDISSEMENT", "DUPLICATE OF", "TEXT"],
                                  rightAligned: [1])
            for c in complaints {
                table.add([c.reference, Duration.human(c.ageSeconds), c.status, c.department ?? "-",
                           c.arrondissement ?? "-", c.duplicateOf ?? "-", firstWords(c.excerpt)])
            }
            print(table.render())
        }
        return 0
    }

    /// The JSON shape of one listed complaint (the excerpt cut to its first words, as in the table).
    private struct ListedComplaint: Encodable {
        let reference: String
        let submittedAt: Date
        let ageSeconds: Int
        let status: String
        let department: String?
        let arrondissement: String?
        let duplicateOf: String?
        let excerpt: String

        init(_ c: ComplaintSummary) {
            reference = c.reference
            submittedAt = c.submittedAt
            ageSeconds = Int(c.ageSeconds)
            status = c.status
            department = c.department
            arrondissement = c.arrondissement
            duplicateOf = c.duplicateOf
            excerpt = ComplaintsCommand.firstWords(c.excerpt)
        }
    }

    /// The first eight words on one line, at most 60 characters, with an ellipsis when cut.
    static func firstWords(_ text: String, words: Int = 8, characters: Int = 60) -> String {
        let all = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline })
        var out = all.prefix(words).joined(separator: " ")
        var cut = all.count > words || text.count >= 200
        if out.count > characters {
            out = String(out.prefix(characters - 1))
            cut = true
        }
        return cut ? out + "…" : out
    }

    /// One TSV cell: tab and line breaks become spaces (they would split the cell or the row),
    /// other control characters are escaped like on the terminal.
    private static func tsvField(_ text: String) -> String {
        TextOutput.escaped(text.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\r\n", with: " ")
            .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " "))
    }

    // MARK: show

    private static func show(_ arguments: inout Arguments, _ runtime: Runtime) throws -> Int32 {
        let reference = try arguments.requiredPositional("REFERENCE")
        try arguments.finish()
        let db = try runtime.connect(role: "complaints")
        let found: ComplaintDetail?
        do { found = try ComplaintQueries.detail(reference: reference, on: db) } catch { throw CLIError.database(error) }
        guard let detail = found else {
            throw CLIError.dataError("complaints show: no complaint has the reference \(reference)")
        }
        var rulesSource: String?
        if let version = detail.decision?.rulesVersion {
            rulesSource = try? ComplaintQueries.rulesSource(version: version, on: db)
        }
        TextOutput.show(ComplaintReport.render(detail, rulesSource: rulesSource))
        return 0
    }

    // MARK: changes

    private static func setStatus(_ arguments: inout Arguments, _ runtime: Runtime) throws -> Int32 {
        try arguments.refuseActor()
        let note = try arguments.option("--note")
        let reference = try arguments.requiredPositional("REFERENCE")
        let status = try arguments.requiredPositional("STATUS")
        try arguments.finish()
        guard ComplaintStatus.all.contains(status) else {
            throw CLIError.usage("complaints set-status: unknown status '\(status)' (\(ComplaintStatus.all.joined(separator: ", ")))")
        }
        let db = try runtime.connect(role: "complaints")
        let change: LifecycleChange
        do {
            change = try LifecycleStore.setStatus(reference: reference, to: status, note: note, on: db)
        } catch {
            throw lifecycleError(error, command: "complaints set-status")
        }
        guard change.eventID != nil else {
            print("\(reference) is already \(status); nothing changed")
            return 0
        }
        runtime.logger.info("status_changed", [("reference", reference), ("from", change.fromStatus),
                                               ("to", change.toStatus), ("actor", change.actor ?? "-")])
        print("\(reference): \(change.fromStatus) -> \(change.toStatus)\(notified(change))")
        return 0
    }

    private static func reassign(_ arguments: inout Arguments, _ runtime: Runtime) throws -> Int32 {
        try arguments.refuseActor()
        let note = try arguments.option("--note")
        let reference = try arguments.requiredPositional("REFERENCE")
        let department = try arguments.requiredPositional("DEPARTMENT")
        try arguments.finish()
        guard let note, !note.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CLIError.usage("complaints reassign: --note TEXT is required: say why the department changes")
        }
        let db = try runtime.connect(role: "complaints")
        let change: LifecycleChange
        do {
            change = try LifecycleStore.reassign(reference: reference, to: department, note: note, on: db)
        } catch {
            throw lifecycleError(error, command: "complaints reassign")
        }
        runtime.logger.info("reassigned", [("reference", reference), ("from", change.fromDepartment ?? "-"),
                                           ("to", change.toDepartment ?? "-"), ("actor", change.actor ?? "-")])
        print("\(reference): \(change.fromDepartment ?? "-") -> \(change.toDepartment ?? "-") (status \(change.toStatus))\(notified(change))")
        return 0
    }

    private static func notified(_ change: LifecycleChange) -> String {
        change.notifications > 0 ? "; the citizen will be emailed" : "; no email (anonymous or no address)"
    }

    /// Unknown reference or department and refused moves are the user's data (65); a database
    /// that is down is 69.
    private static func lifecycleError(_ error: LifecycleError, command: String) -> CLIError {
        switch error {
        case .unknownReference, .unknownDepartment, .sameDepartment, .refused:
            return .dataError("\(command): \(error.description)")
        case .database(let underlying):
            return .database(underlying)
        }
    }
}
