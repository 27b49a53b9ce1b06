import OrdersDomain

/// What a subcommand accepts: options that take a value, switches, and how many positional
/// arguments. Anything else on its command line is a usage error (exit code 2), so a typo such as
/// `serve --prot 7000` is refused instead of silently starting on the default port.
struct CommandSpec {
    var options: Set<String> = []
    var flags: Set<String> = []
    var positional: ClosedRange<Int> = 0...0

    /// Every client command talks to a server and may print raw JSON.
    static func client(options: Set<String> = [], flags: Set<String> = [], positional: ClosedRange<Int> = 0...0) -> CommandSpec {
        CommandSpec(options: options.union(["server", "token"]), flags: flags.union(["json"]), positional: positional)
    }

    /// Commands that append events: they take an expected version and a command id.
    static func command(options: Set<String> = [], positional: ClosedRange<Int>) -> CommandSpec {
        client(options: options.union(["expected-version", "command-id"]), positional: positional)
    }

    /// Queries of the read models: they may wait for a log position.
    static func query(options: Set<String> = [], positional: ClosedRange<Int> = 0...0) -> CommandSpec {
        client(options: options.union(["min-position"]), positional: positional)
    }

    static let all: [String: CommandSpec] = [
        "serve": CommandSpec(options: ["redis", "host", "port", "http-port", "namespace", "redis-wait", "max-backlog", "loops",
                                       "shutdown-grace", "log-retention", "partitions", "durability", "durability-timeout"],
                             flags: ["api-only", "projectors-only", "auto-rebuild", "public-metrics"]),
        "init": CommandSpec(options: ["redis", "namespace", "partitions"], flags: []),
        "move-store": CommandSpec(options: ["redis", "to", "namespace"], flags: []),
        "create": command(options: ["customer", "email", "item"], positional: 0...0),
        "set-status": command(positional: 2...2),
        "cancel": command(options: ["reason"], positional: 1...1),
        "delete": command(positional: 1...1),
        "history": client(positional: 1...1),
        "as-of": client(positional: 2...2),
        "get": query(positional: 1...1),
        "list": query(options: ["status", "email", "from", "to", "min-total", "max-total", "limit", "cursor"]),
        "search": query(options: ["limit"], positional: 1...Int.max),
        "summary": query(),
        "top-customers": query(options: ["by", "limit"]),
        "status": client(),
        "replay": client(options: ["projection", "from", "order"], flags: ["status", "cancel"]),
        "snapshot": client(positional: 1...1),
        "dead-letters": client(),
        "redrive": client(positional: 0...1),
        "health": client(),
        "call": client(positional: 1...2),
        "operations": CommandSpec(),
    ]
}

/// The command line after the subcommand, checked against its `CommandSpec`: positional
/// arguments, `--name value` options (the repeatable ones keep every value) and `--flag` switches.
struct Arguments {
    private(set) var positional: [String] = []
    private var options: [String: [String]] = [:]
    private var flags: Set<String> = []

    init(_ words: [String], spec: CommandSpec) throws {
        var index = 0
        while index < words.count {
            let word = words[index]
            if word.hasPrefix("--") && word.count > 2 {
                let name = String(word.dropFirst(2))
                if spec.flags.contains(name) {
                    flags.insert(name)
                } else if spec.options.contains(name) {
                    guard index + 1 < words.count else { throw UsageError("--\(name) needs a value") }
                    options[name, default: []].append(words[index + 1])
                    index += 1
                } else {
                    throw UsageError("unknown option --\(name)")
                }
            } else {
                positional.append(word)
            }
            index += 1
        }
        if positional.count > spec.positional.upperBound {
            let stray = positional[spec.positional.upperBound...].joined(separator: " ")
            throw UsageError("unexpected argument\(positional.count - spec.positional.upperBound > 1 ? "s" : "") '\(stray.prefix(80))'")
        }
    }

    func option(_ name: String) -> String? { options[name]?.last }
    func all(_ name: String) -> [String] { options[name] ?? [] }
    func flag(_ name: String) -> Bool { flags.contains(name) }

    func positional(_ index: Int, _ what: String) throws -> String {
        guard index < positional.count else { throw UsageError("missing \(what)") }
        return positional[index]
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A time as the command line takes it (ISO-8601, or epoch milliseconds for convenience) in the
/// form the API takes (ISO-8601 only).
func wireTime(_ text: String) -> String {
    Int64(text).map { Timestamp(milliseconds: $0).description } ?? text
}
