import ChikayaCore
import Foundation

/// `chikaya submit`: inserts complaints the way the phone app's back end does.
enum SubmitCommand: Command {
    static let name = "submit"
    static let summary = "insert one complaint, or many from a TSV file"
    static let usage = """
    usage: chikaya submit --text TEXT [--language ar|fr] [--arrondissement CODE] [--anonymous]
                          [--notify-language ar|fr]
           chikaya submit --file FILE.tsv
           chikaya submit --file -            (the same TSV on standard input)

    Inserts complaints into the intake table; the database queues each one for routing.
    A file has a header line and tab-separated columns: id, lang, arrondissement, department,
    text (the corpus format; id and department are ignored), and optionally anonymous, name,
    email, phone, notify_language. The whole file is checked first and inserted in one
    transaction: one bad line inserts nothing and is reported with its line number (text
    that is not UTF-8, or holds a NUL byte, is such a bad line).

    A citizen's name, email and phone come only from the file or standard input, never from
    options: the command line of a process is visible to every user of the machine (`ps`).

    Prints the reference of each complaint inserted.

    options:
      --quiet             print only the count
    \(commonOptions)
    """

    static func run(_ arguments: inout Arguments) throws -> Int32 {
        let runtime = try Runtime.load(&arguments, component: "submit")
        let file = try arguments.option("--file")
        let text = try arguments.option("--text")
        let language = try arguments.option("--language")
        let arrondissement = try arguments.option("--arrondissement")
        let anonymous = arguments.flag("--anonymous")
        for option in ["--name", "--email", "--phone"] {
            try arguments.refuse(option, because: "a citizen's contact comes from the TSV (--file FILE, or --file - on standard input): a command line is visible to every user in `ps`")
        }
        let notifyLanguage = try arguments.option("--notify-language")
        let quiet = arguments.flag("--quiet")
        try arguments.finish()

        var complaints: [NewComplaint]
        switch (file, text) {
        case (let file?, nil):
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let contents = FileManager.default.contents(atPath: file) else {
                    throw CLIError.noInput("cannot read \(file)")
                }
                data = contents
            }
            do {
                complaints = try ComplaintFile.parse(data: data, fileName: file == "-" ? "<stdin>" : file)
            } catch {
                throw CLIError.dataError("\(error.description)\nnothing was inserted")
            }
        case (nil, let text?):
            let complaint = NewComplaint(body: text, language: language, arrondissement: arrondissement,
                                         anonymous: anonymous, notifyLanguage: notifyLanguage)
            var problems = complaint.problems()
            if text.utf8.contains(0) { problems.append("the text holds a NUL byte") }
            guard problems.isEmpty else {
                throw CLIError.dataError(problems.joined(separator: "; ") + "; nothing was inserted")
            }
            complaints = [complaint]
        default:
            throw CLIError.usage("submit: give either --text TEXT or --file FILE.tsv")
        }
        if file != nil && (language != nil || arrondissement != nil || anonymous) {
            throw CLIError.usage("submit: --file takes the complaint fields from the file's columns")
        }

        let db = try runtime.connect(role: "submit")
        let references: [String]
        do {
            references = try db.transaction { db in try ComplaintStore.insert(complaints, on: db) }
        } catch let error as PostgresError {
            throw CLIError.database(error)
        }
        if quiet {
            print("submitted \(references.count) complaints")
        } else {
            references.forEach { print($0) }
        }
        return 0
    }
}
