import EventLoops
import Foundation
@testable import OrdersAPI
import Synchronization
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `LineServer.run` serves until its task is cancelled, then answers what it had received before
/// returning; its requests run on the loop that owns their connection.
struct LineServerLifecycleTests {
    @Test func runReturnsWhenCancelledAfterAnsweringWhatItReceived() async throws {
        let received = Mutex<[CheckedContinuation<Void, Never>]>([])
        let seen = Atomic<Int>(0)
        let loops = ClientKind.testLoops
        let server = LineServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0), loops: loops,
                                tooLarge: Array("too large".utf8)) { line in
            let onLoop = EventLoop.current != nil
            seen.add(1, ordering: .relaxed)
            for waiter in received.withLock({ state in defer { state = [] }; return state }) { waiter.resume() }
            try? await Task.sleep(for: .milliseconds(300)) // still in flight when the stop begins
            return Array("answer to \(String(decoding: line, as: UTF8.self)) on loop: \(onLoop)".utf8)
        }
        let port = try server.start()
        let running = Task { try await server.run(grace: .seconds(10)) }

        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        defer { close(fd) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            received.withLock { $0.append(continuation) }
            _ = "hello\n".withCString { send(fd, $0, 6, 0) }
        }
        running.cancel()
        try await running.value // returns only once the answer is out and the connection closed

        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        #expect(String(decoding: answer, as: UTF8.self) == "answer to hello on loop: true\n")
        #expect(seen.load(ordering: .relaxed) == 1)
    }
}
