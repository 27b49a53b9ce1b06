import Foundation
import OrdersAPI
import OrdersDomain
import Testing
import TestSupport

/// The `orders` executable refuses what it does not understand, before it connects anywhere.
struct CommandLineTests {
    struct Run { let status: Int32; let stdout: String; let stderr: String }

    func run(_ arguments: [String]) throws -> Run {
        let ran = try ChildProcess.output([ServiceProcess.binary(besides: CommandLine.arguments[0])] + arguments)
        return Run(status: ran.status, stdout: ran.stdout, stderr: ran.stderr)
    }

    @Test(arguments: [
        (["serve", "--prot", "7000"], "unknown option --prot", "orders serve"),
        (["serve", "--anything", "VALUE"], "unknown option --anything", "orders serve"),
        (["get", "an-order", "stray"], "unexpected argument 'stray'", "orders get ORDER_ID"),
        (["summary", "extra"], "unexpected argument 'extra'", "orders summary"),
        (["create", "--customer", "A", "--email", "a@b.co", "--item", "S:N:1:1", "--reason", "x"], "unknown option --reason", "orders create"),
        (["replay", "--projections", "all"], "unknown option --projections", "orders replay"),
        (["no-such-command"], "unknown command 'no-such-command'", "usage: orders <command>"),
        (["call", "noSuchOperation"], "'noSuchOperation' is no operation of the line protocol", "orders call OPERATION"),
        (["call", "live"], "'live' is no operation of the line protocol", "orders call OPERATION"),
        (["call", "health", "[1]"], "call takes the request's fields as one JSON object", "orders call OPERATION"),
    ])
    func unknownOptionsAndStrayArgumentsExitWithUsage(arguments: [String], message: String, usage: String) throws {
        let result = try run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.contains(usage), "\(result.stderr)")
    }

    /// The command line reads the API's catalogue: it lists it, and calls any of its operations.
    @Test func itListsTheCatalogueAndCallsItsOperationsByName() throws {
        let listed = try run(["operations"])
        #expect(listed.status == 0)
        for entry in OperationCatalogue.standard.entries {
            #expect(listed.stdout.contains(entry.name) && listed.stdout.contains(entry.route.template), "\(entry.name)")
        }
    }

    @Test(.enabled(if: TestRedis.shouldRun))
    func callSendsAnOperationOfTheCatalogueByItsName() async throws {
        let server = try await TestServer()
        do {
            let created = try run(["call", "createOrder", #"{"customerName":"Ann","customerEmail":"ann@example.com","items":[{"sku":"S","name":"N","quantity":1,"unitPrice":"2.50"}]}"#,
                                   "--server", "127.0.0.1:\(server.port)", "--json"])
            #expect(created.status == 0, "\(created.stderr)")
            let orderId = try JSON.parse(created.stdout)["orderId"]?.string ?? ""
            let history = try run(["call", "orderHistory", #"{"orderId":"\#(orderId)"}"#, "--server", "127.0.0.1:\(server.port)", "--json"])
            #expect(history.status == 0, "\(history.stderr)")
            #expect(try JSON.parse(history.stdout)["events"]?.array?.count == 1)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
