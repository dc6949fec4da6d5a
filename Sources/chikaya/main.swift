import Foundation
import ChikayaCore
#if canImport(Glibc)
import Glibc
#endif

/// Every command, in the order `chikaya --help` lists them.
let commands: [any Command.Type] = [
    MigrateCommand.self,
    SubmitCommand.self,
    WorkerCommand.self,
    QueueCommand.self,
    ComplaintsCommand.self,
    StatsCommand.self,
    HealthCommand.self,
    MetricsCommand.self,
    StaffCommand.self,
    NotifierCommand.self,
    NotificationsCommand.self,
    DepartmentsCommand.self,
    DigestCommand.self,
    VersionCommand.self,
    ClassifyCommand.self,
    RulesCommand.self,
    MailCommand.self,
    MailInCommand.self,
    SuppressionsCommand.self,
]

@MainActor func printUsage() {
    var text = """
    usage: chikaya COMMAND [OPTIONS]

    Chikaya Router: routes citizens' complaints to the city's departments.

    commands:

    """
    let width = commands.map { $0.name.count }.max() ?? 0
    for command in commands {
        text += "  \(command.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(command.summary)\n"
    }
    text += "\nRun 'chikaya help COMMAND' or 'chikaya COMMAND --help' for a command's options."
    print(text)
}

func fail(_ message: String, code: Int32) -> Never {
    var stderr = StandardError()
    print("chikaya: \(message)", to: &stderr)
    exit(code)
}

var words = Array(CommandLine.arguments.dropFirst())
guard let name = words.first else {
    printUsage()
    exit(64)
}
words.removeFirst()

switch name {
case "--help", "-h":
    printUsage()
    exit(0)
case "help":
    guard let topic = words.first else {
        printUsage()
        exit(0)
    }
    guard let command = commands.first(where: { $0.name == topic }) else {
        fail("unknown command '\(topic)'; run 'chikaya --help'", code: 64)
    }
    print(command.usage)
    exit(0)
case "--version":
    print("chikaya \(VersionCommand.version)")
    exit(0)
default:
    break
}

guard let command = commands.first(where: { $0.name == name }) else {
    fail("unknown command '\(name)'; run 'chikaya --help'", code: 64)
}
var arguments = Arguments(command: name, words: words)
if arguments.wantsHelp() {
    print(command.usage)
    exit(0)
}
do {
    ServiceRunner.exitProcess(try command.run(&arguments))
} catch let error as CLIError {
    fail(error.message, code: error.exitCode)
} catch {
    fail("\(error)", code: 1)
}
