import ChikayaCore
import Foundation

/// `chikaya staff add|remove|list`: which staff login handles which department's complaints.
enum StaffCommand: Command {
    static let name = "staff"
    static let summary = "assign staff logins to departments (row-level security)"
    static let usage = """
    usage: chikaya staff add LOGIN --department D [--arrondissement A]
           chikaya staff remove LOGIN --department D [--arrondissement A]
           chikaya staff list [LOGIN]

    A staff login (a database login in the role chikaya_staff) sees and acts on the complaints
    of its assignments only: a department, or one arrondissement of it. A login with no
    assignment sees nothing. Assignments of the department 'triage' give the complaints the
    router could not place. Run as an admin login (chikaya_admin); the logins themselves are
    created by a DBA (docs/security.md). Every change is recorded with the admin's login.

      add     assign LOGIN to the department (every arrondissement, or only A)
      remove  end that assignment; the login stops seeing those complaints at once
      list    the assignments (a staff login sees its own)

    exit codes: 0 done; 64 bad command line; 65 unknown login, department or assignment;
                69 database unavailable; 77 not permitted for this database login

    options:
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "staff")
        let sub = try arguments.requiredPositional("sub-command (add, remove or list)")
        switch sub {
        case "add", "remove":
            let login = try arguments.requiredPositional("LOGIN")
            guard let department = try arguments.option("--department") else {
                throw CLIError.usage("staff \(sub): --department D is required")
            }
            let arrondissement = try arguments.option("--arrondissement")
            try arguments.finish()
            let db = try runtime.connect(role: "staff")
            let scope = arrondissement.map { "\(department) in \($0)" } ?? "\(department) (every arrondissement)"
            if sub == "add" {
                let added = try guarded { try StaffStore.add(login: login, department: department, arrondissement: arrondissement, on: db) }
                print("\(login): assigned to \(scope)")
                if !added.loginIsStaff {
                    var stderr = StandardError()
                    print("warning: \(login) is not a member of chikaya_staff and sees nothing until a DBA runs: GRANT chikaya_staff TO \"\(login)\"",
                          to: &stderr)
                }
            } else {
                try guarded { try StaffStore.remove(login: login, department: department, arrondissement: arrondissement, on: db) }
                print("\(login): no longer assigned to \(scope)")
            }
            runtime.logger.info(sub == "add" ? "staff_assigned" : "staff_unassigned",
                                [("login", login), ("department", department), ("arrondissement", arrondissement ?? "-")])
            return 0
        case "list":
            let login = arguments.positional()
            try arguments.finish()
            let db = try runtime.connect(role: "staff")
            let assignments = try guarded { try StaffStore.list(login: login, on: db) }
            if assignments.isEmpty { print("(no assignments)") }
            let width = assignments.map(\.login.count).max() ?? 0
            for a in assignments {
                print("\(TextOutput.escaped(a.login).padding(toLength: width, withPad: " ", startingAt: 0))  \(a.department)"
                      + "  \(a.arrondissement ?? "*")  by \(TextOutput.escaped(a.assignedBy)) \(CityTime.minute(a.assignedAt))")
            }
            return 0
        default:
            throw CLIError.usage("staff: unknown sub-command '\(sub)' (add, remove or list)")
        }
    }

    /// Staff errors are the administrator's input (65); database errors keep their own mapping.
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StaffError {
            throw CLIError.dataError("staff: \(error.description)")
        } catch let error as DepartmentError {
            throw CLIError.dataError("staff: \(error.description)")
        } catch let error as PostgresError {
            throw CLIError.database(error)
        }
    }
}
