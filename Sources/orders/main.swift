import Foundation
import OrdersAPI

/// `orders`: the service (`orders serve`) and a client for every operation.
let usage = """
    usage: orders <command> [options]

    Service:
      serve [--redis URL] [--host H] [--port P] [--namespace NS] [--api-only | --projectors-only] [--auto-rebuild] [--redis-wait S] [--max-backlog N]
            [--loops N] [--shutdown-grace S] [--http-port P] [--public-metrics] [--log-retention S] [--partitions P]
            [--durability local|replicated[:N]] [--durability-timeout MS]
            --auto-rebuild: rebuild a projection whose live generation has another schema version
            --redis-wait: how long to wait at start-up for a Redis that is down or still loading (default 60 s)
            --max-backlog: hold commands back (up to 2 s each) while a read model has more than N log entries
                           still to read (default 100; 0: never)
            --loops: event loops serving requests and projectors (default: one per core)
            --shutdown-grace: on SIGTERM, how long requests in flight may take to be answered (default 10 s)
            --http-port: the HTTP API (REST, /health/live, /health/ready) on this port (default 7481; 0: none)
            --public-metrics: the probes answer without the API token
            --log-retention: how long the log (the bus) keeps entries every projection has applied (default 3600 s;
                             0: none kept); the events stay in their orders' streams for good
            --durability local|replicated[:N]: answer a command once the primary has its events (local, the default), or once
                          N replicas (default 1) have them too (WAIT after the append, up to --durability-timeout ms, default 1000)
            --partitions: a new store's number of partitions (default 1 on one Redis, 16 on a cluster); an existing store keeps the number it was
                          created with
            env: ORDERS_REDIS_URL, ORDERS_HOST, ORDERS_PORT, ORDERS_NAMESPACE, ORDERS_API_TOKEN, ORDERS_REDIS_WAIT, ORDERS_MAX_BACKLOG,
                 ORDERS_LOOPS, ORDERS_SHUTDOWN_GRACE, ORDERS_HTTP_PORT, ORDERS_PUBLIC_METRICS (1: on), ORDERS_LOG_RETENTION,
                 ORDERS_PARTITIONS, ORDERS_DURABILITY, ORDERS_DURABILITY_TIMEOUT
      init [--redis URL] [--namespace NS] [--partitions P]
            create the store's record with P partitions (before the first serve), or show an existing store's
      move-store --to URL [--redis URL] [--namespace NS]
            copy a stopped store from a single Redis to another Redis or a cluster (any node), key for key,
            and check every partition's log arrived whole; the source is left as it was

    Client (talk to a running server; --server host:port or ORDERS_SERVER, default 127.0.0.1:7480):
      create --customer NAME --email EMAIL --item SKU:NAME:QTY:PRICE [--item …]
      set-status ORDER_ID STATUS        (confirmed, processing, shipped, delivered)
      cancel ORDER_ID [--reason TEXT]
      delete ORDER_ID
      history ORDER_ID                  the order's events, oldest first
      as-of ORDER_ID TIME               the order as it was at TIME (ISO-8601 UTC or epoch ms)
      get ORDER_ID
      list [--status S] [--email E] [--from TIME] [--to TIME] [--min-total A] [--max-total A] [--limit N] [--cursor C]
      search WORDS… [--limit N]
      summary
      top-customers [--by revenue|count] [--limit N]
      status                            projection status: checkpoint, lag, pending, dead letters
      replay [--projection order|summary|all]   rebuild read models into a new generation, then switch
      replay --from TIME                re-project every order with an event at or after TIME, in place
      replay --order ORDER_ID           re-project one order (from its snapshot, if any)
      replay --status | --cancel        the running (or last) replay; stop it, live models untouched
      snapshot ORDER_ID                 store a snapshot of the order now
      dead-letters                      events a projector gave up on, with the error
      redrive [DEAD_LETTER_ID]          apply dead-lettered events again (after fixing the cause)
      health
      call OPERATION ['{"field":…}']  any operation of the line protocol by name, its fields as JSON
      operations                        the API's catalogue: each operation, its HTTP route, its protocols

    Options for client commands:
      --json                 print the raw JSON result
      --expected-version N   refuse unless the order is at version N
      --command-id ID        make a command safe to retry
      --min-position P       (queries) wait until the read models include log position P
      --token TOKEN          or ORDERS_API_TOKEN, when the server requires one
    """

let words = Array(CommandLine.arguments.dropFirst())
guard let subcommand = words.first, !["-h", "--help", "help"].contains(subcommand) else {
    print(usage)
    exit(words.isEmpty ? 2 : 0)
}

do {
    let rest = Array(words.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
        print(usage)
        exit(0)
    }
    guard let spec = CommandSpec.all[subcommand] else { throw UsageError("unknown command '\(subcommand.prefix(40))'") }
    let arguments = try Arguments(rest, spec: spec)
    if subcommand == "serve" {
        try await Serve.run(arguments)
    } else if subcommand == "init" {
        try await InitCommand.run(arguments)
    } else if subcommand == "move-store" {
        try await MoveStoreCommand.run(arguments)
    } else if subcommand == "operations" {
        ClientCommands.listOperations()
    } else if subcommand == "replay" {
        try ReplayCommand.run(arguments)
    } else {
        try ClientCommands.run(subcommand, arguments)
    }
} catch let error as OrdersClient.Failure {
    FileHandle.standardError.write(Data("orders: \(error.message) (\(error.code.rawValue))\n".utf8))
    exit(1)
} catch let error as UsageError {
    // The subcommand's own lines of the usage text, so the right spelling is one glance away.
    let lines = usage.split(separator: "\n").map { $0.drop(while: { $0 == " " }) }
        .filter { $0.split(separator: " ").first.map(String.init) == subcommand }
    let hint = lines.isEmpty ? "usage: orders <command> [options]" : "usage: orders " + lines.joined(separator: "\n       orders ")
    FileHandle.standardError.write(Data("orders: \(error)\n\(hint)\nrun 'orders --help' for every command\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("orders: \(error)\n".utf8))
    exit(1)
}
