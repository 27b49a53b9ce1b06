import OrdersDomain
import OrdersEventLog
import RedisClient

/// Projectors of several projections run as one: each batch reads the log once per projector
/// (its own consumer group, lease and checkpoint) but the orders' streams once for all, and
/// commits once for all (`BatchCycle`). `orders serve` runs the live generation of every
/// projection this way (`ProjectionSupervisor`).
public final class ProjectorGroup: Sendable {
    let members: [any BatchMember]
    /// The members' one connection: a batch's blocking read and its commit (the WATCH lives on
    /// it) take turns, so a partition's projectors hold one connection however many they are.
    private let connection: RedisClient
    private let settings: ProjectorSettings

    /// A projector for each of `projections`, on the generation `generations` names (1 if none).
    public convenience init(projections: [any Projection], generations: [String: Int], log: EventLog, settings: ProjectorSettings) {
        let connection = settings.connection(to: log)
        self.init(projections.map { $0.projector(log: log, generation: generations[$0.name] ?? 1, settings: settings, connection: connection) },
                  connection: connection, settings: settings)
    }

    init(_ members: [any BatchMember], connection: RedisClient, settings: ProjectorSettings) {
        self.members = members
        self.connection = connection
        self.settings = settings
    }

    /// Consumes until the task is cancelled, or until a member's consumer group is destroyed
    /// because a rebuild replaced its generation (the supervisor then forms the group anew).
    /// Redis outages are waited out with backoff. Without any lease it stands by, trying to take
    /// them every `lease / 5`. On cancellation it lets its leases go, so another instance takes
    /// over at once.
    public func run() async {
        var backoff = Duration.milliseconds(50)
        var groupsReady = false
        let cycle = BatchCycle(members: members, connection: connection)
        while !Task.isCancelled {
            do {
                if !groupsReady {
                    for member in members { try await member.createGroup() }
                    groupsReady = true
                }
                _ = try await cycle.step()
                if !members.contains(where: { $0.token != nil }) { try? await Task.sleep(for: settings.lease / 5) }
                backoff = .milliseconds(50)
            } catch RedisError.server(let message) where message.hasPrefix("NOGROUP") {
                // A rebuild replaced a generation (it destroys the old group after its switch), or
                // a group vanished with Redis's data while its generation is still live: then it
                // is created again, and what the checkpoint holds is only acknowledged.
                let live = try? await LiveGenerations(log: members[0].log).live(members.map(\.name))
                if let live, members.allSatisfy({ live[$0.name] == $0.view.generation }) {
                    Log.warning("projector.group_recreated", ["projections": members.map(\.name).joined(separator: ",")])
                    groupsReady = false
                    for member in members { member.readPendingFirst() }
                    continue
                }
                Log.info("projector.group_gone", ["projections": members.map(\.name).joined(separator: ",")])
                break
            } catch {
                if Task.isCancelled { break }
                Log.warning("projector.retrying", ["projections": members.map(\.name).joined(separator: ","), "error": error])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
        for member in members { await member.release() }
    }
}
