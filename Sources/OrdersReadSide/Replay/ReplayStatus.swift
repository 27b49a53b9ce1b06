import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// What a replay is doing, kept in `orders:{0}:view:replay` so any instance (and `orders replay
/// --status`) can see it, and so a replay whose process died is noticed (its heartbeat stops).
public struct ReplayStatus: Sendable, Hashable {
    public enum Phase: String, Sendable, CaseIterable {
        case reading, writing, catchingUp = "catching-up", switching, cleaning, done, cancelled, failed
        public var isFinished: Bool { self == .done || self == .cancelled || self == .failed }
        /// The replay's result is what queries see: finished, or a rebuild past its switch
        /// (only dropping the replaced generations is left, in the background).
        public var isLive: Bool { isFinished || self == .cleaning }
    }

    public var id: String
    /// "rebuild", "from" or "order".
    public var kind: String
    public var projections: [String]
    /// The generations a rebuild fills (empty for in-place replays).
    public var generations: [Int]
    /// The generations they replace (live when the rebuild began), one per projection: dropped
    /// once the switch happened. With `generations` this tells, after any crash, what is left
    /// to drop: for each projection, whichever of the two is not live.
    public var replaced: [Int]
    public var from: String?
    public var orderId: String?
    public var phase: Phase
    /// Events (rebuild) or orders (in place) handled so far, of `total`.
    public var done: Int
    public var total: Int
    public var startedAt: Timestamp
    public var heartbeat: Timestamp
    public var error: String?

    /// A replay whose heartbeat is this old is taken to have died with its process.
    public static let staleAfter: Int64 = 10_000

    public var isAlive: Bool { !phase.isFinished && Timestamp.now().milliseconds - heartbeat.milliseconds < Self.staleAfter }

    var fields: [String] {
        var fields = ["id", id, "kind", kind, "projections", projections.joined(separator: ","),
                      "generations", generations.map(String.init).joined(separator: ","),
                      "replaced", replaced.map(String.init).joined(separator: ","), "phase", phase.rawValue,
                      "done", String(done), "total", String(total), "startedAt", startedAt.description,
                      "heartbeat", heartbeat.description, "error", error ?? "", "from", from ?? "", "orderId", orderId ?? ""]
        fields += ["cancel", "0"]
        return fields
    }

    init(id: String, kind: String, projections: [String], generations: [Int], replaced: [Int] = [], from: String?,
         orderId: String?, phase: Phase, done: Int, total: Int, startedAt: Timestamp, heartbeat: Timestamp, error: String?) {
        self.id = id
        self.kind = kind
        self.projections = projections
        self.generations = generations
        self.replaced = replaced
        self.from = from
        self.orderId = orderId
        self.phase = phase
        self.done = done
        self.total = total
        self.startedAt = startedAt
        self.heartbeat = heartbeat
        self.error = error
    }

    /// A replay about to claim the slot: a new id, started and alive now, nothing done yet.
    static func starting(kind: String, projections: [String], phase: Phase = .reading) -> ReplayStatus {
        let now = Timestamp.now()
        return ReplayStatus(id: UUID().uuidString.prefix(8).lowercased(), kind: kind, projections: projections, generations: [],
                            from: nil, orderId: nil, phase: phase, done: 0, total: 0, startedAt: now, heartbeat: now, error: nil)
    }

    /// From HGETALL's reply.
    init?(_ reply: RedisValue) {
        let map = reply.fields
        guard let id = map["id"], let phase = map["phase"].flatMap(Phase.init(rawValue:)),
              let startedAt = map["startedAt"].flatMap(Timestamp.init(parsing:)),
              let heartbeat = map["heartbeat"].flatMap(Timestamp.init(parsing:)) else { return nil }
        self.init(id: id, kind: map["kind"] ?? "", projections: (map["projections"] ?? "").split(separator: ",").map(String.init),
                  generations: (map["generations"] ?? "").split(separator: ",").compactMap { Int($0) },
                  replaced: (map["replaced"] ?? "").split(separator: ",").compactMap { Int($0) },
                  from: map["from"].flatMap { $0.isEmpty ? nil : $0 }, orderId: map["orderId"].flatMap { $0.isEmpty ? nil : $0 },
                  phase: phase, done: Int(map["done"] ?? "") ?? 0, total: Int(map["total"] ?? "") ?? 0,
                  startedAt: startedAt, heartbeat: heartbeat, error: map["error"].flatMap { $0.isEmpty ? nil : $0 })
    }
}
