/// A command as an argv array of byte strings: each argument travels as its own binary-safe
/// bulk string, so no user input is ever parsed as part of a command line.
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    public var arguments: [[UInt8]]

    public init(arguments: [[UInt8]]) {
        precondition(!arguments.isEmpty, "a Redis command needs at least its name")
        self.arguments = arguments
    }

    public init(_ name: String, _ arguments: [any RedisArgument]) {
        var argv: [[UInt8]] = [Array(name.utf8)]
        argv.reserveCapacity(arguments.count + 1)
        for argument in arguments { argv.append(argument.redisBytes) }
        self.arguments = argv
    }

    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    public var name: String { String(decoding: arguments[0], as: UTF8.self) }

    /// The command name and its argument count only: arguments may hold passwords or user data.
    public var description: String { "\(name) (\(arguments.count - 1) arguments)" }
}

/// A value that can travel as one argument of a command.
public protocol RedisArgument: Sendable {
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
}
