import Foundation
import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import OrdersAPI
import RedisClient

/// The benchmark driver. Usage:
///   orders-bench memory [--redis URL] [--orders N] [--no-command-ids] [--read-models]
///   orders-bench project [--redis URL] [--orders N]
///   orders-bench lag [--redis URL] [--rate COMMANDS_PER_SECOND] [--seconds S]
///   orders-bench rebuild [--redis URL] [--events N]
///   orders-bench load [--server HOST:PORT] [--scenario create|mix|reads|contended] [--connections N] [--depth D]
///                     [--http HOST:PORT]  (create and get over HTTP; --server still runs the probes)
///                     [--seconds S] [--requests N] [--items N] [--rate REQUESTS_PER_SECOND]
/// Prints one JSON object of figures on stdout.
let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

do {
    let url = try RedisURL(option("--redis") ?? ProcessInfo.processInfo.environment["ORDERS_REDIS_URL"] ?? "redis://127.0.0.1:6390")
    let redis = RedisClient(RedisConfiguration(url: url, connections: 4))
    switch arguments.first {
    case "memory":
        let figures = try await MemoryBenchmark(redis: redis, orders: Int(option("--orders") ?? "") ?? 10_000,
                                                commandIds: !arguments.contains("--no-command-ids"),
                                                withReadModels: arguments.contains("--read-models")).run()
        let json = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    case "project":
        let figures = try await ProjectionBenchmark(redis: redis, orders: Int(option("--orders") ?? "") ?? 20_000).run()
        let json = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    case "rebuild":
        let figures = try await RebuildBenchmark(redis: redis, events: Int(option("--events") ?? "") ?? 100_000).run()
        let json = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    case "load":
        let server = option("--server") ?? "127.0.0.1:7480"
        guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]) else {
            throw BenchmarkError("--server must be host:port")
        }
        var http: (host: String, port: Int)?
        if let address = option("--http") {
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
                throw BenchmarkError("--http must be host:port")
            }
            http = (String(address[..<colon]), port)
        }
        let figures = try LoadBenchmark(host: String(server[..<colon]), port: port,
                                        connections: Int(option("--connections") ?? "") ?? 16,
                                        depth: Int(option("--depth") ?? "") ?? 1,
                                        duration: .seconds(Int(option("--seconds") ?? "") ?? 10),
                                        scenario: option("--scenario") ?? "create",
                                        itemsPerOrder: Int(option("--items") ?? "") ?? 2,
                                        rate: option("--rate").flatMap { Int($0) },
                                        requestLimit: option("--requests").flatMap { Int($0) }, http: http).run()
        let json = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    case "lag":
        let figures = try await LagBenchmark(redis: redis, rate: Int(option("--rate") ?? "") ?? 1000,
                                             duration: .seconds(Int(option("--seconds") ?? "") ?? 10)).run()
        let json = try JSONSerialization.data(withJSONObject: figures, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    default:
        FileHandle.standardError.write(Data("""
            usage: orders-bench memory [--redis URL] [--orders N] [--no-command-ids] [--read-models]
                   orders-bench project [--redis URL] [--orders N]
                   orders-bench lag [--redis URL] [--rate COMMANDS_PER_SECOND] [--seconds S]
                   orders-bench rebuild [--redis URL] [--events N]
                   orders-bench load [--server HOST:PORT] [--scenario create|mix|reads|contended] [--connections N]
                                     [--depth D] [--seconds S] [--requests N] [--items N] [--rate REQUESTS_PER_SECOND]
                                     [--http HOST:PORT]

            """.utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("orders-bench: \(error)\n".utf8))
    exit(1)
}
