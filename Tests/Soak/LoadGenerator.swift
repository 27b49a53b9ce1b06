import Foundation
import OrdersAPI

/// Sends commands with command ids from worker threads, each working its own orders through
/// create → status changes (5% cancels), and retries each command with the same id, on any of
/// the service ports, until it is answered. Services may be killed and Redis may vanish under
/// it: that is the point. Every outcome lands in the ledger.
public struct LoadGenerator: Sendable {
    public let ports: [Int]
    public let workers: Int
    public let commandsPerWorker: Int
    public let duration: Duration
    /// How long one command is retried before the client gives up on it (abandoned).
    public let giveUpAfter: Duration
    public let ledger: CommandLedger
    public let runId: String

    static let flow = ["pending", "confirmed", "processing", "shipped", "delivered"]

    public init(ports: [Int], workers: Int, commandsPerWorker: Int, duration: Duration,
                giveUpAfter: Duration = .seconds(60), ledger: CommandLedger, runId: String) {
        self.ports = ports
        self.workers = workers
        self.commandsPerWorker = commandsPerWorker
        self.duration = duration
        self.giveUpAfter = giveUpAfter
        self.ledger = ledger
        self.runId = runId
    }

    /// Runs every worker to the end of its commands or of `duration`; returns the commands sent.
    public func run() async throws -> Int {
        let deadline = ContinuousClock.now + duration
        let sent = try await onThreads(workers) { worker in
            var generator = SeededGenerator(seed: UInt64(worker) &+ 7)
            var clients: [Int: OrdersClient] = [:]
            var orders: [(id: String, status: Int)] = [] // this worker's open orders and their place in the flow
            var sent = 0
            while sent < commandsPerWorker && ContinuousClock.now < deadline {
                let commandId = "\(runId)-w\(worker)-\(sent)"
                sent += 1
                var request: [String: Any] = ["commandId": commandId]
                let op: String
                let picked = orders.isEmpty || Int.random(in: 0..<10, using: &generator) < 3 ? nil : Int.random(in: 0..<orders.count, using: &generator)
                if let picked {
                    request["orderId"] = orders[picked].id
                    // Cancelling is allowed until shipped: every refusal then means a bug.
                    if orders[picked].status < 3 && Int.random(in: 0..<20, using: &generator) == 0 {
                        op = "cancelOrder"
                        request["reason"] = "soak"
                    } else {
                        op = "updateStatus"
                        request["status"] = Self.flow[orders[picked].status + 1]
                    }
                } else {
                    op = "createOrder"
                    request["customerName"] = "Soak Customer \(worker)"
                    request["customerEmail"] = "soak\(worker)@example.com"
                    request["items"] = [["sku": "SOAK-\(sent % 7)", "name": "Soak item", "quantity": 1 + sent % 3, "unitPrice": "12.34"]]
                }
                let outcome = call(op, request, clients: &clients, attempt: worker)
                ledger.record(commandId, outcome.ledger)
                if case .acknowledged = outcome.ledger {
                    if op == "createOrder", let orderId = outcome.result?["orderId"] as? String {
                        orders.append((orderId, 0))
                    } else if let picked {
                        orders[picked].status += 1
                        if op == "cancelOrder" || orders[picked].status + 1 >= Self.flow.count { orders.remove(at: picked) }
                    }
                } else if let picked, case .refused = outcome.ledger {
                    orders.remove(at: picked) // we lost track of it; leave it alone
                }
            }
            return sent
        }
        return sent.reduce(0, +)
    }

    private func call(_ op: String, _ request: [String: Any], clients: inout [Int: OrdersClient],
                      attempt first: Int) -> (ledger: CommandLedger.Outcome, result: [String: Any]?) {
        let giveUp = ContinuousClock.now + giveUpAfter
        var attempt = first
        while ContinuousClock.now < giveUp {
            let port = ports[attempt % ports.count]
            attempt += 1
            do {
                let client = try clients[port] ?? OrdersClient(port: port, timeout: .seconds(10))
                clients[port] = client
                let result = try client.call(op, request) as? [String: Any]
                return (.acknowledged, result)
            } catch let failure as OrdersClient.Failure where failure.code != .unavailable {
                if [.invalidTransition, .notFound, .concurrencyConflict].contains(failure.code) {
                    return (.refused(failure.code.rawValue), nil)
                }
                ledger.problem("\(op) answered \(failure.code.rawValue): \(failure.message.prefix(120))")
                clients[port] = nil
                // An internal error says nothing of whether it was written: retrying the same
                // command id finds out. Any other code is a refusal of a request we made valid.
                if failure.code != .internal { return (.refused(failure.code.rawValue), nil) }
            } catch is OrdersClient.Failure {
                // unavailable, from the service or from a client whose connection is gone (the
                // service was killed): sent again below with the same command id, on a new
                // connection.
                clients[port] = nil
                ledger.retried(unavailable: true)
            } catch {
                clients[port] = nil // the connection is gone (service killed) or timed out
                ledger.retried(unavailable: false)
            }
            usleep(20_000)
        }
        return (.abandoned, nil)
    }
}

extension CommandLedger {
    /// Waits until `count` commands have been answered (or given up on), up to `limit`.
    func waitUntilAnswered(_ count: Int, within limit: Duration) async throws {
        try await eventually(within: limit) { guard self.count >= count else { throw CancellationError() } }
    }
}
