import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// What operations call: the command handler, the read models' queries, the replay service, the
/// event streams (for the operator's history, as-of and snapshots), and the service's own
/// counters and limits. Shared by both routers; it knows neither protocol.
public final class APIContext: Sendable {
    public let commands: CommandHandler
    public let queries: QueryHandler
    public let replay: ReplayService
    /// The operator calls that read the event streams on purpose (history, as-of, snapshots).
    public let log: EventLog
    let loader: OrderLoader
    /// Required of every request, except the probes with `publicMetrics` and the document.
    let token: String?
    /// Holds commands back while the read models are too far behind (nil: never).
    let throttle: WriteThrottle?
    /// What requests and commands count, for `/metrics`.
    public let metrics: ServiceMetrics
    /// `/health/ready` fails when a projection's lag is above this.
    let readyLag: Duration

    public init(commands: CommandHandler, queries: QueryHandler, replay: ReplayService, token: String? = nil,
                throttle: WriteThrottle? = nil, metrics: ServiceMetrics = ServiceMetrics(), readyLag: Duration = .seconds(30)) {
        self.commands = commands
        self.queries = queries
        self.replay = replay
        self.log = queries.log
        self.loader = OrderLoader(log: queries.log)
        self.token = token
        self.throttle = throttle
        self.metrics = metrics
        self.readyLag = readyLag
    }

    /// Runs one command (held back while the read models are too far behind) and counts it;
    /// a refusal is thrown as its wire error.
    func execute(_ request: CommandHandler.Request) async throws(APIError) -> AppendResult {
        do {
            await throttle?.admit()
            let result = try await commands.handle(request)
            metrics.command(outcome: result.duplicate ? "duplicate" : "appended", events: result.duplicate ? 0 : result.positions.count)
            return result
        } catch {
            let refusal = APIError(error)
            metrics.command(outcome: refusal.code.rawValue)
            throw refusal
        }
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
