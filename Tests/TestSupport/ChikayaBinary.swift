import Foundation

/// The built `chikaya` program, run as a child process the way an operator or a service manager
/// runs it: the end-to-end tests assert on its output and exit status.
public struct ChikayaBinary: Sendable {
    public let path: String

    /// Finds the binary: `CHIKAYA_BIN`, else next to the test bundle, else `.build/debug` of the
    /// repository this file belongs to.
    public static func locate(file: String = #filePath) -> ChikayaBinary {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CHIKAYA_BIN"], !explicit.isEmpty { return ChikayaBinary(path: explicit) }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [beside, beside.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("chikaya").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return ChikayaBinary(path: candidate) }
        }
        let root = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return ChikayaBinary(path: root.appendingPathComponent(".build/debug/chikaya").path)
    }

    /// The repository's root, for `config/` files.
    public static func repositoryRoot(file: String = #filePath) -> URL {
        URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// What a finished run printed and returned.
    public struct Outcome: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    /// Runs to completion (killed after `timeout` seconds) with `environment` added to ours and
    /// `stdin` (if any) as its standard input.
    public func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                    timeout: Double = 120) throws -> Outcome {
        let child = try start(arguments, environment: environment, stdin: stdin)
        return child.wait(timeout: timeout)
    }

    /// Starts the program and returns at once, for tests that signal or kill it.
    public func start(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> Child {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.currentDirectoryURL = Self.repositoryRoot()
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = stdin.map { _ in Pipe() }
        process.standardInput = input ?? FileHandle.nullDevice
        let child = Child(process: process, out: out, err: err)
        try process.run()
        child.startReading()
        if let input, let stdin {
            // A thread of its own: a large input must not block us while the child fills its pipes.
            let writer = input.fileHandleForWriting
            Thread {
                writer.write(Data(stdin.utf8))
                try? writer.close()
            }.start()
        }
        return child
    }

    /// A running `chikaya`; its output is collected on background threads so pipes never fill.
    public final class Child: @unchecked Sendable {
        // @unchecked: the buffers are only touched under `lock`.
        let process: Process
        private let out: Pipe
        private let err: Pipe
        private let lock = NSLock()
        private var outData = Data()
        private var errData = Data()
        private let readers = DispatchGroup()

        init(process: Process, out: Pipe, err: Pipe) {
            self.process = process
            self.out = out
            self.err = err
        }

        func startReading() {
            for (handle, isOut) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
                readers.enter()
                Thread {
                    let data = handle.readDataToEndOfFile()
                    self.lock.lock()
                    if isOut { self.outData.append(data) } else { self.errData.append(data) }
                    self.lock.unlock()
                    self.readers.leave()
                }.start()
            }
        }

        public var pid: Int32 { process.processIdentifier }
        public var isRunning: Bool { process.isRunning }

        public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        /// Waits for the exit (killing the process after `timeout`) and returns the outcome;
        /// status 137 means it had to be killed.
        public func wait(timeout: Double) -> Outcome {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            readers.wait()
            lock.lock()
            defer { lock.unlock() }
            let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            return Outcome(status: status, stdout: String(decoding: outData, as: UTF8.self),
                           stderr: String(decoding: errData, as: UTF8.self))
        }
    }
}
