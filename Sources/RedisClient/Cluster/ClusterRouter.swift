import Synchronization

/// Sends each call to the right server: the one Redis of the URL, or on a cluster the master of
/// the slot of the call's key, following the cluster when slots move.
///
/// - A client starts by talking to the URL's server. Only a cluster answers `MOVED`; the first
///   one makes the router read the slot map (`CLUSTER SLOTS`) and route from then on.
/// - `MOVED`: the slot lives elsewhere now. The map takes the new owner at once (and is read
///   again, at most once a second) and the command goes there.
/// - `ASK`: the slot is being moved and this key already went. The command goes to the new node
///   once, behind `ASKING`; the map stays as it is until the move ends with `MOVED`.
/// - `TRYAGAIN`: a multi-key call whose keys are split between the two nodes for a moment; it is
///   sent again after a short pause, until the command timeout.
/// Nothing of a redirected or refused command ran, so sending it again neither loses nor doubles.
/// One exception: a `MULTI … EXEC` from a client that used `WATCH` in an earlier call is not
/// sent elsewhere (the `WATCH` stayed with the old node, and the transaction's safety with it);
/// its replies come back as Redis gave them, and the caller's next attempt finds the new node.
final class ClusterRouter: Sendable {
    private let configuration: RedisConfiguration
    private let kind: RedisNode.Kind
    private let seed: RedisNode
    private let seedAddress: ClusterNode
    /// Set once the map was read: every call is routed by slot from then on.
    private let clustered = Atomic<Bool>(false)
    /// Set once `CLUSTER SLOTS` was refused: the URL's server is a single Redis.
    private let standalone = Atomic<Bool>(false)
    /// Set once this client sent a `WATCH` (see the exception above).
    private let hasWatched = Atomic<Bool>(false)
    private let state: Mutex<State>

    private struct State: Sendable {
        var map: ClusterMap?
        /// Asked, and the URL's server is not a cluster.
        var standalone = false
        var nodes: [ClusterNode: RedisNode] = [:]
        var lastRefresh: ContinuousClock.Instant?
        var closed = false
    }

    /// Longest run of redirections one call follows before its last answer is handed back.
    private static let maxResends = 32
    /// A full read of the slot map after a `MOVED` is done at most this often.
    private static let refreshInterval = Duration.seconds(1)

    init(_ configuration: RedisConfiguration, kind: RedisNode.Kind, knowing other: ClusterRouter? = nil) {
        self.configuration = configuration
        self.kind = kind
        self.seed = RedisNode(configuration, kind: kind)
        let host = configuration.url.host
        self.seedAddress = ClusterNode(host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host,
                                       port: configuration.url.port)
        var state = State()
        if let other {
            let known = other.state.withLock { ($0.map, $0.standalone) }
            state.map = known.0
            state.standalone = known.1
        }
        self.state = Mutex(state)
        clustered.store(state.map != nil, ordering: .relaxed)
        standalone.store(state.standalone, ordering: .relaxed)
    }

    var isCluster: Bool { clustered.load(ordering: .relaxed) }

    func submit(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        // Both looks are at one command, not the whole pipeline: a rebuild's pipelines hold
        // thousands. A WATCH opens its pipeline (it must precede what it guards), and a SCAN is
        // sent alone (each step needs the cursor of the one before).
        if !hasWatched.load(ordering: .relaxed) && commands[0].isWatch {
            hasWatched.store(true, ordering: .relaxed)
        }
        if !clustered.load(ordering: .relaxed) && !standalone.load(ordering: .relaxed) {
            // A client's first call (a dedicated one knows what its parent knew): find out what
            // the URL names, one CLUSTER SLOTS. On a cluster the client then knows every master
            // before any of them fails: a client that had only ever talked to the URL's node
            // would have no one to ask once that node died. (And SCAN is never redirected: a
            // node scans what it holds.)
            try await refresh()
        }
        guard clustered.load(ordering: .relaxed) else {
            let replies: [RedisValue]
            do {
                replies = try await seed.submit(commands)
            } catch {
                configuration.sentinel?.suspect() // a dead primary: the sentinels may know its successor
                throw error
            }
            if let sentinel = configuration.sentinel, replies.contains(where: \.isReadOnlyRefusal) { sentinel.suspect() }
            // A single Redis never redirects: the common case costs this one scan of the replies.
            guard replies.contains(where: \.asksToResend) else { return replies }
            if !isCluster, replies.contains(where: { Redirection($0, defaultHost: seedAddress.host) != nil }) {
                try await refresh()
            }
            if commands.count == 1 || commands.contains(where: \.isMulti) {
                return try await resend(commands, replies, sentTo: seedAddress)
            }
            // A plain pipeline's keys may live on several masters: each redirected command is
            // sent again on its own (the others ran where they were).
            return try await resendEach(commands, replies) { _ in seedAddress }
        }
        do {
            if commands.count == 1, commands[0].isScan, let key = commands[0].routingKey {
                return [try await scan(commands[0], probing: key)]
            }
            if commands.count == 1 || commands.contains(where: \.isMulti) {
                let target = node(for: commands)
                let replies = try await connection(to: target).submit(commands)
                // A node that is not serving its slots (a failed master back before it learned
                // of its replacement): the map may be stale.
                if replies.contains(where: \.saysClusterDown) { await refreshAfterFailure() }
                guard replies.contains(where: \.asksToResend) else { return replies }
                return try await resend(commands, replies, sentTo: target)
            }
            let replies = try await split(commands)
            if replies.contains(where: \.saysClusterDown) { await refreshAfterFailure() }
            return replies
        } catch let error as RedisError where error.mayMeanANodeFailed {
            // A master that died answers no MOVED: its replica takes its slots (after the
            // cluster's node timeout), and only the map tells. Read it again (at most once a
            // second); this command's outcome stands as it is.
            await refreshAfterFailure()
            throw error
        }
    }

    private func refreshAfterFailure() async {
        let due = state.withLock { state -> Bool in
            if let last = state.lastRefresh, ContinuousClock.now - last < Self.refreshInterval { return false }
            state.lastRefresh = .now
            return true
        }
        if due { try? await refresh() }
    }

    func primaries() async throws -> [ClusterNode] {
        if let known = knownPrimaries() { return known }
        try await refresh()
        return knownPrimaries() ?? [seedAddress]
    }

    func onEveryPrimary(_ command: RedisCommand) async throws -> [RedisValue] {
        var replies: [RedisValue] = []
        for node in try await primaries() {
            replies.append(try await connection(to: node).submit([command])[0])
        }
        return replies
    }

    func close() {
        let nodes = state.withLock { state in
            state.closed = true
            defer { state.nodes = [:] }
            return Array(state.nodes.values)
        }
        seed.close()
        for node in nodes { node.close() }
    }

    // MARK: - Routing

    /// The master of the first key's slot; the URL's server for a call without a key.
    private func node(for commands: [RedisCommand]) -> ClusterNode {
        guard let slot = commands.lazy.compactMap(\.slot).first else { return seedAddress }
        return state.withLock { $0.map?.master(of: slot) } ?? seedAddress
    }

    /// A pipeline without `MULTI` on a cluster: each node gets its commands in one round trip,
    /// all nodes at once, and the replies come back in the pipeline's order.
    private func split(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        // Each command's slot once, and every owner under one look at the map.
        let slots = commands.map(\.slot)
        let owners: [ClusterNode?] = state.withLock { state in slots.map { $0.flatMap { state.map?.master(of: $0) } } }
        let firstOwner = owners.lazy.compactMap { $0 }.first ?? seedAddress
        var groups: [ClusterNode: [Int]] = [:]
        var previous: ClusterNode?
        for index in commands.indices {
            // A command without a key goes with the one before it (or the first keyed one).
            let target = slots[index] != nil ? owners[index] ?? seedAddress : previous ?? firstOwner
            previous = target
            groups[target, default: []].append(index)
        }
        var replies = [RedisValue](repeating: .null, count: commands.count)
        if groups.count == 1, let (target, _) = groups.first {
            replies = try await connection(to: target).submit(commands)
        } else {
            let connections = try groups.map { (try connection(to: $0.key), $0.value) }
            try await withThrowingTaskGroup(of: ([Int], [RedisValue]).self) { group in
                for (connection, indices) in connections {
                    group.addTask { (indices, try await connection.submit(indices.map { commands[$0] })) }
                }
                for try await (indices, answers) in group {
                    for (index, answer) in zip(indices, answers) { replies[index] = answer }
                }
            }
        }
        return try await resendEach(commands, replies) { [self] in node(for: [commands[$0]]) }
    }

    /// Sends each command of a plain pipeline whose reply asks for it again, on its own.
    private func resendEach(_ commands: [RedisCommand], _ replies: [RedisValue],
                            sentTo target: (Int) -> ClusterNode) async throws -> [RedisValue] {
        var replies = replies
        for index in replies.indices where replies[index].asksToResend {
            replies[index] = try await resend([commands[index]], [replies[index]], sentTo: target(index))[0]
        }
        return replies
    }

    /// Sends `commands` (one command, or one transaction) again for as long as the answer asks
    /// for it, within the command timeout and `maxResends`; hands back the last answer.
    private func resend(_ commands: [RedisCommand], _ replies: [RedisValue], sentTo first: ClusterNode) async throws -> [RedisValue] {
        let isTransaction = commands.contains(where: \.isMulti)
        if isTransaction && hasWatched.load(ordering: .relaxed) && !commands.contains(where: \.isWatch) {
            try await learn(from: replies, sentTo: first)
            return replies
        }
        var replies = replies
        var target = first
        var pause = Duration.milliseconds(5)
        let deadline = ContinuousClock.now + configuration.commandTimeout
        for _ in 0..<Self.maxResends {
            guard replies.contains(where: \.asksToResend), ContinuousClock.now < deadline else { return replies }
            let redirection = replies.lazy.compactMap { Redirection($0, defaultHost: target.host) }.first
            switch redirection?.kind {
            case .moved?:
                try await learn(from: replies, sentTo: target)
                target = redirection!.node
                replies = try await connection(to: target).submit(commands)
            case .ask?:
                target = redirection!.node
                replies = Array(try await connection(to: target).submit([RedisCommand("ASKING")] + commands).dropFirst())
            case nil:
                // TRYAGAIN: the keys are in flight between two nodes; ask the slot's owner again.
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(100))
                target = node(for: commands)
                replies = try await connection(to: target).submit(commands)
            }
        }
        return replies
    }

    /// A `SCAN … MATCH` of one hash tag: `SCAN` is not redirected (a node scans what it has), so
    /// it goes behind a probe of the tag's slot (`EXISTS` of the pattern, a key nobody has) that
    /// is. The probe answers `MOVED` when the map is stale, `ASK` while the slot is being moved.
    /// A walk that has begun (cursor not 0) and meets either cannot go on: its cursor belongs to
    /// the old node (`scanInterrupted`; the caller starts again). A walk beginning waits for a
    /// move to end (within the command timeout) and scans the slot's new owner.
    private func scan(_ command: RedisCommand, probing key: [UInt8]) async throws -> RedisValue {
        let begins = command.arguments.count > 1 && command.arguments[1] == Array("0".utf8)
        let probe = RedisCommand("EXISTS", key)
        let slot = HashSlot.of(key)
        var pause = Duration.milliseconds(5)
        let deadline = ContinuousClock.now + configuration.commandTimeout
        while true {
            let target = node(for: [command])
            let replies = try await connection(to: target).submit([probe, command])
            guard let redirection = Redirection(replies[0], defaultHost: target.host) else { return replies[1] }
            guard begins else {
                try await learn(from: [replies[0]], sentTo: target)
                throw RedisError.scanInterrupted(slot: slot)
            }
            switch redirection.kind {
            case .moved:
                try await learn(from: [replies[0]], sentTo: target)
            case .ask:
                guard ContinuousClock.now < deadline else { return replies[0] }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(100))
            }
        }
    }

    // MARK: - The map

    /// Takes in the `MOVED` answers among `replies`, and reads the whole map again when it is
    /// older than `refreshInterval`.
    private func learn(from replies: [RedisValue], sentTo node: ClusterNode) async throws {
        let moves = replies.compactMap { Redirection($0, defaultHost: node.host) }.filter { $0.kind == .moved }
        guard !moves.isEmpty else { return }
        let stale = state.withLock { state -> Bool in
            for move in moves { state.map?.assign(move.slot, to: move.node) }
            guard let last = state.lastRefresh else { return true }
            return ContinuousClock.now - last >= Self.refreshInterval
        }
        if stale { try await refresh() }
    }

    private func knownPrimaries() -> [ClusterNode]? {
        state.withLock { state in
            if let map = state.map { return map.masters }
            return state.standalone ? [seedAddress] : nil
        }
    }

    /// Reads `CLUSTER SLOTS` from the URL's server, or else from a known master. A server that
    /// is not a cluster answers with an error: the client then stays with it. A node that says
    /// the cluster is down is passed over while another can answer: a failed master restarted
    /// from its nodes.conf still lists its old slots as its own until it learns of the failover.
    private func refresh() async throws {
        let known = state.withLock { $0.map?.masters ?? [] }
        var lastError: (any Error)?
        var fallback: ClusterMap?
        for node in [seedAddress] + known.filter({ $0 != seedAddress }) {
            do {
                let replies = try await connection(to: node).submit([RedisCommand("CLUSTER", "SLOTS"), RedisCommand("CLUSTER", "INFO")])
                let reply = replies[0]
                if case .error(let message) = reply {
                    // Loading its data, busy: no answer yet to what it is (asked again next call).
                    if RedisError.server(message).isServerUnavailable { throw RedisError.server(message) }
                    if node == seedAddress && known.isEmpty {
                        state.withLock { $0.standalone = true; $0.lastRefresh = .now }
                        standalone.store(true, ordering: .relaxed)
                        return
                    }
                    continue
                }
                guard let parsed = ClusterMap(slots: reply, defaultHost: node.host) else { continue }
                guard replies[1].string?.contains("cluster_state:ok") == true else {
                    fallback = fallback ?? parsed
                    continue
                }
                adopt(parsed)
                return
            } catch {
                lastError = error
            }
        }
        if let fallback {
            adopt(fallback)
            return
        }
        if let lastError { throw lastError }
    }

    private func adopt(_ map: ClusterMap) {
        state.withLock { state in
            state.map = map
            state.standalone = false
            state.lastRefresh = .now
        }
        standalone.store(false, ordering: .relaxed)
        clustered.store(true, ordering: .relaxed)
    }

    /// The connections to `node`, made when first needed, with the URL's login.
    private func connection(to node: ClusterNode) throws(RedisError) -> RedisNode {
        if node == seedAddress { return seed }
        return try state.withLock { state throws(RedisError) -> RedisNode in
            guard !state.closed else { throw .closed }
            if let existing = state.nodes[node] { return existing }
            var configuration = self.configuration
            configuration.url.host = node.host.contains(":") ? "[\(node.host)]" : node.host
            configuration.url.port = node.port
            let made = RedisNode(configuration, kind: kind)
            state.nodes[node] = made
            return made
        }
    }
}
