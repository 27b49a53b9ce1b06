/// A command as an argv array of byte strings: each argument travels as its own binary-safe
/// bulk string, so no user input is ever parsed as part of a command line.
///
/// Held already encoded in Redis's wire format (a RESP array of bulk strings): built once, in one
/// buffer, and copied as it is into a connection's output. One allocation per command, where an
/// array per argument cost the projector a tenth of its time.
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// The command as Redis reads it.
    public let resp: [UInt8]
    /// How many arguments it has, the command's name included.
    public let count: Int

    public init(arguments: [[UInt8]]) {
        var builder = Builder()
        for argument in arguments { builder.append(argument) }
        self = builder.command
    }

    public init(_ name: String, _ arguments: [any RedisArgument]) {
        var builder = Builder()
        builder.append(name)
        for argument in arguments { argument.append(to: &builder) }
        self = builder.command
    }

    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    fileprivate init(resp: [UInt8], count: Int) {
        precondition(count >= 1, "a Redis command needs at least its name")
        self.resp = resp
        self.count = count
    }

    /// The arguments, read back from the encoding (for the blocking connection and for tests).
    public var arguments: [[UInt8]] {
        var arguments: [[UInt8]] = []
        var index = resp.firstIndex(of: 0x0a)! + 1
        while index < resp.count {
            let lineEnd = resp[index...].firstIndex(of: 0x0d)!
            let length = Int(String(decoding: resp[(index + 1)..<lineEnd], as: UTF8.self))!
            let start = lineEnd + 2
            arguments.append(Array(resp[start..<(start + length)]))
            index = start + length + 2
        }
        return arguments
    }

    public var name: String { String(decoding: arguments[0], as: UTF8.self) }

    /// A length or count as RESP writes it (decimal digits).
    fileprivate static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        if value < 10 {
            output.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { output.append(buffer[index]) }
        }
    }


    /// The command name and its argument count only: arguments may hold passwords or user data.
    public var description: String { "\(name) (\(count - 1) arguments)" }

    /// Builds a command argument by argument, straight into its encoding.
    public struct Builder: Sendable {
        private var body: [UInt8] = []
        private var count = 0

        public init(capacity: Int = 256) { body.reserveCapacity(capacity) }

        public mutating func append(_ argument: String) {
            var argument = argument
            argument.withUTF8 { append(bytes: $0) }
        }

        public mutating func append(_ argument: [UInt8]) {
            argument.withUnsafeBufferPointer { append(bytes: $0) }
        }

        public mutating func append(_ argument: Int) {
            append(String(argument))
        }

        public mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
            body.append(UInt8(ascii: "$"))
            RedisCommand.appendDecimal(bytes.count, to: &body)
            body.append(0x0d); body.append(0x0a)
            body.append(contentsOf: bytes)
            body.append(0x0d); body.append(0x0a)
            count += 1
        }

        public var command: RedisCommand {
            var resp: [UInt8] = [UInt8(ascii: "*")]
            resp.reserveCapacity(body.count + 12)
            RedisCommand.appendDecimal(count, to: &resp)
            resp.append(0x0d); resp.append(0x0a)
            resp += body
            return RedisCommand(resp: resp, count: count)
        }
    }
}

/// A value that can travel as one argument of a command.
public protocol RedisArgument: Sendable {
    func append(to builder: inout RedisCommand.Builder)
}

extension String: RedisArgument {
    public func append(to builder: inout RedisCommand.Builder) { builder.append(self) }
}

extension Substring: RedisArgument {
    public func append(to builder: inout RedisCommand.Builder) { builder.append(String(self)) }
}

extension Int: RedisArgument {
    public func append(to builder: inout RedisCommand.Builder) { builder.append(self) }
}

extension Int64: RedisArgument {
    public func append(to builder: inout RedisCommand.Builder) { builder.append(String(self)) }
}

extension Array: RedisArgument where Element == UInt8 {
    public func append(to builder: inout RedisCommand.Builder) { builder.append(self) }
}
