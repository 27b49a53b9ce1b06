import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// What operations call: the command handler, the read models' queries, the replay service, the
/// event streams (for the operator's history, as-of and snapshots), and the service's own
/// counters and limits. Shared by both routers; it knows neither protocol.
public final class APIContext: Sendable {
    public let commands: CommandHandler
    /// The read models of every partition, a query fanned out and merged.
    public let queries: PartitionedQueries
    public let replay: PartitionedReplay
    /// Every partition's log: the operator calls that read the event streams on purpose
    /// (history, as-of, snapshots) and the projections' status.
    public let logs: StoreLogs
    let loader: OrderLoader
    /// Required of every request, except the probes with `publicMetrics` and the document.
    let token: String?
    /// Holds commands back while the read models are too far behind (nil: never).
    let throttle: WriteThrottle?
    /// What requests and commands count, for `/metrics`.
    public let metrics: ServiceMetrics
    /// `/health/ready` fails when a projection's lag is above this.
    let readyLag: Duration

    public init(commands: CommandHandler, queries: PartitionedQueries, replay: PartitionedReplay, token: String? = nil,
                throttle: WriteThrottle? = nil, metrics: ServiceMetrics = ServiceMetrics(), readyLag: Duration = .seconds(30)) {
        self.commands = commands
        self.queries = queries
        self.replay = replay
        self.logs = queries.logs
        self.loader = OrderLoader(logs: queries.logs)
        self.token = token
        self.throttle = throttle
        self.metrics = metrics
        self.readyLag = readyLag
    }

    /// Runs one command (held back while the read models are too far behind) and counts it;
    /// a refusal is thrown as its wire error.
    func execute(_ request: CommandHandler.Request) async throws(APIError) -> CommandOutcome {
        do {
            await throttle?.admit()
            let result = try await commands.handle(request)
            metrics.command(outcome: result.duplicate ? "duplicate" : "appended", events: result.duplicate ? 0 : result.positions.count)
            return CommandOutcome(result: result, position: text(result.lastPosition, ofOrder: result.orderId))
        } catch {
            let refusal = APIError(error)
            metrics.command(outcome: refusal.code.rawValue)
            throw refusal
        }
    }

    /// A client's read-your-writes positions, each checked against this store's partitions.
    public func positions(_ requested: [RequestedPosition]) throws(APIError) -> [StorePosition] {
        let partitions = logs.layout.count
        var positions: [StorePosition] = []
        for position in requested {
            if let partition = position.partition {
                // A well-formed position this store cannot have given out (of a partition it does
                // not have, or bare in a store of several) is unknown, like one past a log's head.
                guard partition < partitions else {
                    throw APIError(.unknownPosition, "\(position.field) names partition \(partition), which this store of \(partitions) partition\(partitions == 1 ? "" : "s") does not have; use a position a command returned")
                }
                positions.append(StorePosition(partition: partition, position: position.position))
            } else {
                guard partitions == 1 else {
                    throw APIError(.unknownPosition, "\(position.field) names no partition; this store of \(partitions) partitions gives out positions that do (<partition>/<position>): use a position a command returned")
                }
                positions.append(StorePosition(partition: 0, position: position.position))
            }
        }
        return positions
    }

    /// The position of an event of `orderId` as a client is given it: bare in a store of one
    /// partition, `<partition>/<position>` in one of more.
    func text(_ position: LogPosition, ofOrder orderId: String) -> String {
        let layout = logs.layout
        return StorePosition(partition: layout.partition(ofOrder: orderId), position: position).text(partitions: layout.count)
    }

    /// Every partition's projection reports, with the partition's number.
    func projectionReports() async throws -> [(partition: Int, report: ReadSideOperator.Report)] {
        var all: [(partition: Int, report: ReadSideOperator.Report)] = []
        for log in logs.partitions {
            for report in try await ReadSideOperator(log: log, projections: replay.projections).reports() {
                all.append((log.keys.partition, report))
            }
        }
        return all
    }

    /// Whether `given` is the token, compared in constant time.
    func accepts(token given: String?) -> Bool {
        guard let token else { return true }
        guard let given else { return false }
        let x = Array(given.utf8), y = Array(token.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// A command's result, with its position written as the client is given it.
struct CommandOutcome: Sendable {
    let result: AppendResult
    let position: String
}
