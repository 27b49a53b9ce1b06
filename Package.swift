// swift-tools-version:6.0
// The Orders event store. No Swift package dependencies: the one library is the system's hiredis
// (Debian's libhiredis-dev), reached through the CHiredis system-library target.
import PackageDescription

let package = Package(
    name: "Orders",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "EventLoops", targets: ["EventLoops"]),
        .library(name: "RedisClient", targets: ["RedisClient"]),
        .library(name: "OrdersDomain", targets: ["OrdersDomain"]),
        .library(name: "OrdersEventLog", targets: ["OrdersEventLog"]),
        .library(name: "OrdersWriteSide", targets: ["OrdersWriteSide"]),
        .library(name: "OrdersReadSide", targets: ["OrdersReadSide"]),
        .library(name: "OrdersAPI", targets: ["OrdersAPI"]),
        .executable(name: "orders", targets: ["orders"]),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // Linux headers Swift's Glibc module leaves out (epoll, posix_spawn's closefrom).
        .systemLibrary(name: "CLinux"),
        // Event loops: one thread and one epoll each, a task executor, turn-end flushes. Knows
        // nothing of Redis or orders.
        .target(name: "EventLoops", dependencies: ["CLinux"]),
        // A small Redis client over hiredis, on lanes (threads) or on event loops. Knows nothing
        // of orders.
        .target(name: "RedisClient", dependencies: ["CHiredis", "CLinux", "EventLoops"]),
        // A process's long-running parts as services, and the group that owns signals and their
        // shutdown order (swift-service-lifecycle's model, written here). Knows nothing of orders.
        .target(name: "ServiceLifecycle"),
        // The flow of ../shared/DESIGN.md, held by the compiler: each arrow is a dependency, and
        // nothing else is.
        //
        // The domain: commands, events, the aggregate and its rules, Money, times, the JSON codec.
        // Pure values: no Redis client, no I/O.
        .target(name: "OrdersDomain"),
        // What both sides share of the store: keys, the log and one order's stream read back,
        // loading an aggregate (with snapshots), the Redis Function library (Resources/orders.lua,
        // linked from Redis/), the log lines.
        .target(name: "OrdersEventLog", dependencies: ["OrdersDomain", "RedisClient"],
                resources: [.embedInCode("Resources/orders.lua")]),
        // The write side: appending (EventStore), the repository, the command handler.
        .target(name: "OrdersWriteSide", dependencies: ["OrdersDomain", "OrdersEventLog", "RedisClient", "CLinux"]),
        // The read side: projections, the projector runtime, read models, queries, replay. It reads
        // the log and never reaches the write side.
        .target(name: "OrdersReadSide", dependencies: ["OrdersDomain", "OrdersEventLog", "RedisClient"]),
        // The API: a socket server on the event loops with two wire protocols (the NDJSON lines,
        // HTTP/1.1), the routers to the same handlers (REST, probes, metrics), the OpenAPI
        // document (Resources/openapi.json), a Swift client.
        .target(name: "OrdersAPI", dependencies: ["OrdersDomain", "OrdersEventLog", "OrdersWriteSide", "OrdersReadSide",
                                                  "RedisClient", "EventLoops", "CLinux"],
                resources: [.embedInCode("Resources/openapi.json")]),
        // `orders`: the service (`orders serve`) and a client for every operation.
        .executableTarget(name: "orders", dependencies: ["EventLoops", "ServiceLifecycle", "OrdersAPI", "OrdersDomain", "OrdersEventLog", "OrdersWriteSide", "OrdersReadSide", "RedisClient"]),
        // The benchmark driver (Scripts/bench runs it against a release build).
        .executableTarget(name: "orders-bench", dependencies: ["EventLoops", "CLinux", "OrdersDomain", "OrdersEventLog", "OrdersWriteSide", "OrdersReadSide", "OrdersAPI", "RedisClient"]),
        // Test machinery, under Tests/ and in no product. The reliability suites (crash, outage,
        // several instances, contention, hostile input, the OpenAPI fuzzer) and their harness:
        // private redis-server and `orders serve` processes, a load generator with a ledger, the
        // store audit. Scripts/soak runs them full size (orders-soak), the tests small.
        .target(name: "Soak", dependencies: ["OrdersDomain", "OrdersEventLog", "OrdersWriteSide", "OrdersReadSide", "OrdersAPI", "RedisClient", "CLinux"],
                path: "Tests/Soak"),
        .executableTarget(name: "orders-soak", dependencies: ["Soak", "OrdersDomain", "OrdersEventLog", "OrdersWriteSide", "OrdersReadSide", "RedisClient"],
                          path: "Tests/orders-soak"),
        // Helpers shared by the test targets: where the test Redis is; re-exports Soak's harness.
        .target(name: "TestSupport", dependencies: ["EventLoops", "RedisClient", "OrdersDomain", "OrdersEventLog", "OrdersWriteSide", "OrdersReadSide", "Soak"], path: "Tests/TestSupport"),
        .testTarget(name: "ServiceLifecycleTests", dependencies: ["ServiceLifecycle"]),
        .testTarget(name: "RedisClientTests", dependencies: ["EventLoops", "RedisClient", "TestSupport"]),
        .testTarget(name: "OrdersTests", dependencies: ["OrdersDomain", "OrdersEventLog", "OrdersWriteSide", "OrdersReadSide", "RedisClient", "TestSupport"]),
        .testTarget(name: "OrdersAPITests", dependencies: ["EventLoops", "OrdersAPI", "OrdersDomain", "OrdersEventLog", "OrdersWriteSide", "OrdersReadSide", "RedisClient", "TestSupport"]),
    ]
)
