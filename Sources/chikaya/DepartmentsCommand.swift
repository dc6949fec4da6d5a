import ChikayaCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `chikaya departments list|check|set-contact|remove-contact|history|sync`: the offices that
/// receive routed complaints.
enum DepartmentsCommand: Command {
    static let name = "departments"
    static let summary = "department contacts, deadlines and delivery checks"
    static let usage = """
    usage: chikaya departments list
           chikaya departments check
           chikaya departments set-contact DEPARTMENT [--arrondissement A] EMAIL [--note TEXT]
           chikaya departments remove-contact DEPARTMENT [--arrondissement A] [--note TEXT]
           chikaya departments history [DEPARTMENT] [--limit N]
           chikaya departments sync [FILE]

    Each routed complaint is emailed to its department's office for the complaint's
    arrondissement, else to the department's default office (no --arrondissement).

      list            departments with working language, deadlines (days to first action /
                      to resolution) and contacts
      check           departments without a default contact and assignments waiting for a
                      contact; exits 1 when there is any (they are kept, never lost: setting
                      the contact sends them)
      set-contact     sets an office's address; waiting assignments it covers are queued
      remove-contact  removes an office's address (its complaints go to the default office)
      history         contact changes: who, when, old and new address
      sync            applies the departments file (default: departments_file, i.e.
                      config/departments.conf): language, reply_to, deadlines, and the
                      contacts it lists; contacts only in the database are kept and listed

    Every contact change is recorded with the database login that made it (an admin login,
    member of chikaya_admin; docs/security.md).

    options:
      --arrondissement A  the arrondissement's office instead of the default office
      --note TEXT         why, kept in the history
      --limit N           history lines (default: 20)
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "departments")
        let sub = try arguments.requiredPositional("sub-command (list, check, set-contact, remove-contact, history, sync)")
        switch sub {
        case "list":
            try arguments.finish()
            return try list(runtime.connect(role: "departments"))
        case "check":
            try arguments.finish()
            return try check(runtime.connect(role: "departments"))
        case "set-contact":
            let department = try arguments.requiredPositional("DEPARTMENT")
            let arrondissement = try arguments.option("--arrondissement")
            try arguments.refuseActor()
            let note = try arguments.option("--note")
            let email = try arguments.requiredPositional("EMAIL")
            try arguments.finish()
            let db = try runtime.connect(role: "departments")
            let outcome = try guarded {
                try DepartmentContactStore.setContact(department: department, arrondissement: arrondissement, email: email,
                                               note: note, on: db)
            }
            let office = officeName(department, arrondissement)
            print(outcome.old.map { "\(office): \($0) -> \(email)" } ?? "\(office): \(email)")
            if outcome.released > 0 { print("queued \(outcome.released) waiting complaint(s) for delivery") }
            return 0
        case "remove-contact":
            let department = try arguments.requiredPositional("DEPARTMENT")
            let arrondissement = try arguments.option("--arrondissement")
            try arguments.refuseActor()
            let note = try arguments.option("--note")
            try arguments.finish()
            let db = try runtime.connect(role: "departments")
            let old = try guarded {
                try DepartmentContactStore.removeContact(department: department, arrondissement: arrondissement, note: note, on: db)
            }
            print("\(officeName(department, arrondissement)): removed \(old)")
            return 0
        case "history":
            let department = arguments.positional()
            let limit = try arguments.intOption("--limit", default: 20, range: 1...10_000)
            try arguments.finish()
            let db = try runtime.connect(role: "departments")
            let changes = try guarded { try ContactHistoryStore.changes(department: department, limit: limit, on: db) }
            if changes.isEmpty { print("(no contact changes)") }
            for change in changes {
                TextOutput.show("\(CityTime.minute(change.at))  \(officeName(change.department, change.arrondissement))  "
                      + "\(change.oldEmail ?? "-") -> \(change.newEmail ?? "-")  by \(change.actor)")
            }
            return 0
        case "sync":
            let path = arguments.positional() ?? runtime.configuration.departmentsFile
            try arguments.refuseActor()
            try arguments.finish()
            let file: DepartmentsFile
            do { file = try DepartmentsFile.load(path: path) } catch { throw CLIError.dataError(error.description) }
            return try sync(file, db: runtime.connect(role: "departments"))
        default:
            throw CLIError.usage("departments: unknown sub-command '\(sub)' (list, check, set-contact, remove-contact, history, sync)")
        }
    }

    private static func list(_ db: PostgresConnection) throws -> Int32 {
        let departments = try guarded { try DepartmentStore.overview(on: db) }
        print("department               lang  first action  resolution  contacts")
        for d in departments {
            let first = d.firstActionDays.map { "\($0) d" } ?? "-", resolution = d.resolutionDays.map { "\($0) d" } ?? "-"
            let deadlines = String(repeating: " ", count: max(0, 12 - first.count)) + first + "  "
                + String(repeating: " ", count: max(0, 10 - resolution.count)) + resolution
            let head = d.code.padding(toLength: 24, withPad: " ", startingAt: 0) + " " + d.workingLanguage + "    " + deadlines
            let contacts = d.contacts.map { "\($0.arrondissement ?? "default")=\($0.email)" }
            print(head + "  " + (contacts.isEmpty ? "(none)" : contacts.joined(separator: ", ")))
            if let replyTo = d.replyTo { print(String(repeating: " ", count: 25) + "reply-to \(replyTo)") }
        }
        return 0
    }

    private static func check(_ db: PostgresConnection) throws -> Int32 {
        let report = try guarded { try DepartmentStore.check(on: db) }
        let bounced = try guarded { try InboundStore.bouncedOffices(on: db) }
        if report.isClean && bounced.isEmpty {
            print("every department has a default contact; no assignment waits for a contact")
            return 0
        }
        if !report.withoutDefault.isEmpty {
            print("departments without a default contact: \(report.withoutDefault.joined(separator: ", "))")
        }
        if !report.waiting.isEmpty {
            print("assignments waiting for a contact (set one with 'chikaya departments set-contact'):")
            for w in report.waiting {
                print("  \(officeName(w.department, w.arrondissement).padding(toLength: 40, withPad: " ", startingAt: 0))"
                      + " \(w.complaints) complaint(s), since \(CityTime.minute(w.oldest))")
            }
        }
        if !bounced.isEmpty {
            // Urgent: every complaint sent there reaches nobody.
            print("office addresses that bounce (fix the address, then 'chikaya suppressions remove ADDRESS'):")
            for office in bounced {
                print("  \(officeName(office.department, office.arrondissement).padding(toLength: 40, withPad: " ", startingAt: 0))"
                      + " \(office.address)  \(office.status ?? "-")"
                      + (office.lastBounceAt.map { ", last bounce \(CityTime.minute($0))" } ?? ""))
            }
        }
        return 1
    }

    private static func sync(_ file: DepartmentsFile, db: PostgresConnection) throws -> Int32 {
        let outcome = try guarded { try DepartmentsSync.apply(file, on: db) }
        print("applied \(outcome.departments) department(s) from \(file.path): \(outcome.contactsSet) contact(s) set, "
              + "\(outcome.released) waiting complaint(s) queued")
        for contact in outcome.kept {
            print("kept (not in the file): \(officeName(contact.department, contact.arrondissement)) \(contact.email)")
        }
        return 0
    }

    /// Department errors are the operator's input (65); database errors keep their own mapping.
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DepartmentError {
            throw CLIError.dataError(error.description)
        } catch let error as PostgresError {
            throw CLIError.database(error)
        }
    }

    static func officeName(_ department: String, _ arrondissement: String?) -> String {
        arrondissement.map { "\(department) (\($0))" } ?? "\(department) (default office)"
    }
}
