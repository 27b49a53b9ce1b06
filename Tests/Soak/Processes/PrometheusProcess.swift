import Foundation
import OrdersDomain
import OrdersAPI
#if canImport(Glibc)
import Glibc
#endif

/// A real Prometheus server (Debian's prometheus package) on a free loopback port, scraping the
/// given targets' `/metrics` every second, with its data in a temporary folder of its own. Its
/// HTTP API answers instant queries (`query`).
public final class PrometheusProcess: @unchecked Sendable {
    // @unchecked: started and stopped by one suite task.
    public let port: Int
    let folder: URL
    private var child: ChildProcess?

    public static let binary = "/usr/bin/prometheus"

    public init(targets: [Int], job: String = "orders") throws {
        port = try RedisServerProcess.freePort()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("orders-prometheus-\(port)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: \(job)
                static_configs:
                  - targets: [\(targets.map { "'127.0.0.1:\($0)'" }.joined(separator: ", "))]

            """
        try Data(config.utf8).write(to: folder.appendingPathComponent("prometheus.yml"))
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }

    /// Where Prometheus writes its own log.
    public var logPath: String { folder.appendingPathComponent("prometheus.log").path }

    public func start() throws {
        child = try ChildProcess.spawn([Self.binary, "--config.file=\(folder.path)/prometheus.yml",
                                        "--storage.tsdb.path=\(folder.path)/data", "--web.listen-address=127.0.0.1:\(port)",
                                        "--log.level=warn"], log: folder.appendingPathComponent("prometheus.log"))
    }

    public func stop() {
        _ = child?.stop(SIGTERM)
        child = nil
    }

    /// The values of an instant query's vector result (nil when Prometheus does not answer yet).
    public func query(_ expression: String) -> [Double]? {
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
        guard let body = PlainHTTP.get(port: port, path: "/api/v1/query?query=\(encoded)"),
              let json = try? JSON.parse(bytes: body), json["status"]?.string == "success",
              let results = json["data"]?["result"]?.array else { return nil }
        return results.compactMap { result in
            guard let pair = result["value"]?.array, pair.count == 2 else { return nil }
            return pair[1].string.flatMap(Double.init)
        }
    }
}

/// One HTTP/1.0 GET on loopback, its body read until the server closes (no keep-alive, no
/// chunking): enough to ask Prometheus's API and the service's probes.
enum PlainHTTP {
    static func get(port: Int, path: String) -> [UInt8]? {
        guard let fd = try? OrdersClient.connectedSocket(host: "127.0.0.1", port: port, timeout: .seconds(5)) else { return nil }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += chunk[0..<count]
        }
        let blank: [UInt8] = [13, 10, 13, 10]
        guard received.starts(with: Array("HTTP/1.".utf8)), received.count > 12, received[9] == UInt8(ascii: "2"),
              let end = received.indices.first(where: { received[$0...].starts(with: blank) }) else { return nil }
        return Array(received[(end + 4)...])
    }
}
