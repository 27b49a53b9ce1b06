// swift-tools-version:6.0
// The Orders event store. No Swift package dependencies: the one library is the system's hiredis
// (Debian's libhiredis-dev), reached through the CHiredis system-library target.
import PackageDescription

let package = Package(
    name: "Orders",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RedisClient", targets: ["RedisClient"]),
        .library(name: "Orders", targets: ["Orders"]),
        .library(name: "OrdersAPI", targets: ["OrdersAPI"]),
        .executable(name: "orders", targets: ["orders"]),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // Linux headers Swift's Glibc module leaves out (epoll), for the server's event loop.
        .systemLibrary(name: "CLinux"),
        // A small Redis client over hiredis. Knows nothing of orders.
        .target(name: "RedisClient", dependencies: ["CHiredis"]),
        // The domain, the event store, the read side and the handlers. `Domain/` does no I/O.
        // Resources/orders.lua is the Redis Function library it loads (Redis/orders.lua links to it).
        .target(name: "Orders", dependencies: ["RedisClient"], resources: [.embedInCode("Resources/orders.lua")]),
        // The API: wire types, the line-protocol TCP server, the request router, a Swift client.
        .target(name: "OrdersAPI", dependencies: ["Orders", "RedisClient", "CLinux"]),
        // `orders`: the service (`orders serve`) and a client for every operation.
        .executableTarget(name: "orders", dependencies: ["OrdersAPI", "Orders", "RedisClient"]),
        // The benchmark driver (Scripts/bench runs it against a release build).
        .executableTarget(name: "orders-bench", dependencies: ["Orders", "OrdersAPI", "RedisClient"]),
        // The reliability suites (crash, outage, several instances, contention, hostile input) and
        // their harness: private redis-server and `orders serve` processes, a load generator with
        // a ledger, the store audit. Scripts/soak runs them full size, the tests small.
        .target(name: "Soak", dependencies: ["Orders", "OrdersAPI", "RedisClient", "CLinux"]),
        .executableTarget(name: "orders-soak", dependencies: ["Soak", "Orders", "RedisClient"]),
        // Helpers shared by the test targets: where the test Redis is; re-exports Soak's harness.
        .target(name: "TestSupport", dependencies: ["RedisClient", "Orders", "Soak"], path: "Tests/TestSupport"),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "TestSupport"]),
        .testTarget(name: "OrdersTests", dependencies: ["Orders", "RedisClient", "TestSupport"]),
        .testTarget(name: "OrdersAPITests", dependencies: ["OrdersAPI", "Orders", "RedisClient", "TestSupport"]),
    ]
)
