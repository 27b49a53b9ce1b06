import Foundation
import Testing
import TestSupport

/// The `orders` executable refuses what it does not understand, before it connects anywhere.
struct CommandLineTests {
    struct Run { let status: Int32; let stderr: String }

    func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServiceProcess.binary(besides: CommandLine.arguments[0]))
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stderr: text)
    }

    @Test(arguments: [
        (["serve", "--prot", "7000"], "unknown option --prot", "orders serve"),
        (["serve", "--anything", "VALUE"], "unknown option --anything", "orders serve"),
        (["get", "an-order", "stray"], "unexpected argument 'stray'", "orders get ORDER_ID"),
        (["summary", "extra"], "unexpected argument 'extra'", "orders summary"),
        (["create", "--customer", "A", "--email", "a@b.co", "--item", "S:N:1:1", "--reason", "x"], "unknown option --reason", "orders create"),
        (["replay", "--projections", "all"], "unknown option --projections", "orders replay"),
        (["no-such-command"], "unknown command 'no-such-command'", "usage: orders <command>"),
    ])
    func unknownOptionsAndStrayArgumentsExitWithUsage(arguments: [String], message: String, usage: String) throws {
        let result = try run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.contains(usage), "\(result.stderr)")
    }
}
