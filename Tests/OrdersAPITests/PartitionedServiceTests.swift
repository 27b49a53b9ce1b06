import Foundation
import OrdersAPI
import OrdersEventLog
import Testing
import TestSupport

/// The HTTP API over a store of four partitions, every answer held to the document that store
/// serves: commands land in their customer's partition and say so in their position; reads wait
/// for the write's partition; lists, a customer's orders and the summary span every partition;
/// positions that name no partition of the store are unknown (409); a replay rebuilds every partition;
/// status and metrics report each one. (`Scripts/test` runs this on the cluster too.)
@Suite(.enabled(if: TestRedis.shouldRun))
struct PartitionedServiceTests {
    @Test func theAPIServesAStoreOfFourPartitions() async throws {
        let server = try await TestServer(partitions: 4)
        defer { Task { await server.stop() } }
        let layout = server.store.layout
        try await onThreads(1) { _ in
            let document = try HTTPTestClient(port: server.httpPort).request("GET", "/openapi.json")
            #expect(document.status == 200 && document.body == OpenAPIDocument.bytes)
            let http = try HTTPTestClient(port: server.httpPort, conformance: OpenAPIConformance(document: document.body))

            var last: (id: String, position: String) = ("", "")
            var first = last
            for index in 0..<8 {
                let body = #"{"customerName":"C\#(index % 4)","customerEmail":"c\#(index % 4)@example.com","items":[{"productId":"A-1","productName":"Mug","quantity":\#(index + 1),"price":"2.50"}]}"#
                let created = try http.request("POST", "/api/v1/orders/order", body: body)
                #expect(created.status == 201)
                let id = String(created.headers["location"]?.split(separator: "/").last ?? "")
                let position = created.headers["orders-log-position"] ?? ""
                #expect(position.hasPrefix("\(layout.partition(ofOrder: id))/"), "\(position) names the order's partition")
                #expect(layout.partition(ofOrder: id) == layout.partition(ofCustomer: "c\(index % 4)@example.com"))
                last = (id, position)
                if index == 0 { first = last }
            }
            // Read-your-writes in the write's partition, then lists over every partition.
            let read = try http.request("GET", "/api/v1/orders/order/\(last.id)", headers: [("Orders-Min-Position", last.position)])
            #expect(read.status == 200)
            // Two writes' positions (query and header) in two partitions: the read waits for both.
            let both = try http.request("GET", "/api/v1/orders/summary?minPosition=\(first.position)", headers: [("Orders-Min-Position", last.position)])
            #expect(both.status == 200)
            let all = try http.request("GET", "/api/v1/orders?limit=100", headers: [("Orders-Min-Position", last.position)])
            #expect(all.status == 200 && String(decoding: all.body, as: UTF8.self).contains(#""total":8"#))
            let theirs = try http.request("GET", "/api/v1/orders/customer/c1@example.com")
            #expect(theirs.status == 200 && String(decoding: theirs.body, as: UTF8.self).components(separatedBy: #""orderId""#).count - 1 == 2)
            try waitFor {
                let summary = try http.request("GET", "/api/v1/orders/summary")
                return String(decoding: summary.body, as: UTF8.self).contains(#""totalOrders":8"#)
            }
            // Positions this store cannot have given out: unknown; malformed ones: invalid.
            for (bad, status) in [("1796523804495-0", 409), ("9/1796523804495-0", 409), ("x/1-0", 400), ("12345/1-0", 400), ("+1/1-0", 400)] {
                let refused = try http.request("GET", "/api/v1/orders/summary", headers: [("Orders-Min-Position", bad)])
                #expect(refused.status == status, "\(bad)")
            }
            let history = try http.request("GET", "/api/v1/orders/order/\(last.id)/history")
            #expect(String(decoding: history.body, as: UTF8.self).contains(#""position":"\#(last.position)""#))

            // A rebuild of every partition, through the API.
            #expect(try http.request("POST", "/api/v1/replay", body: "{}").status == 202)
            try waitFor {
                let status = try http.request("GET", "/api/v1/replay")
                return String(decoding: status.body, as: UTF8.self).contains(#""phase":"done""#)
            }
            let projections = String(decoding: try http.request("GET", "/api/v1/projections").body, as: UTF8.self)
            for partition in 0..<4 { #expect(projections.contains(#""partition":\#(partition)"#)) }
            let metrics = String(decoding: try http.request("GET", "/metrics").body, as: UTF8.self)
            #expect(metrics.contains(#"orders_projection_lag_events{projection="order",partition="3"}"#))
        }
    }

    /// `orders init` records a new store's partitions; the number is fixed from then on, and an
    /// existing store written before the record counts as one partition.
    @Test func initRecordsTheNumberOfPartitions() throws {
        let binary = ServiceProcess.binary(besides: CommandLine.arguments[0])
        let url = try TestRedis.url().description
        let namespace = TestRedis.uniqueNamespace("init")
        let created = try ChildProcess.output([binary, "init", "--redis", url, "--namespace", namespace, "--partitions", "4"])
        #expect(created.status == 0 && created.stdout.hasPrefix("store \(namespace): 4 partitions"), "\(created)")
        let again = try ChildProcess.output([binary, "init", "--redis", url, "--namespace", namespace])
        #expect(again.status == 0 && again.stdout.hasPrefix("store \(namespace): 4 partitions"))
        let other = try ChildProcess.output([binary, "init", "--redis", url, "--namespace", namespace, "--partitions", "2"])
        #expect(other.status == 1 && other.stderr.contains("has 4 partitions, fixed when it was created"), "\(other)")
        let invalid = try ChildProcess.output([binary, "init", "--redis", url, "--namespace", namespace, "--partitions", "0"])
        #expect(invalid.status == 2 && invalid.stderr.contains("--partitions must be a number from 1 to 1024"))
    }

    /// Polls `condition` (a thread's HTTP call) until it holds, within 30 s.
    func waitFor(_ condition: () throws -> Bool) throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut() }
            usleep(20_000)
        }
    }

    struct TimedOut: Error {}
}
