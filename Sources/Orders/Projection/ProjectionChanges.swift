import RedisClient

/// The Redis writes one projected update makes, gathered for one `orders_project` call: the
/// function applies them only if the guard still holds the version the projector read.
public struct ProjectionChanges: Sendable {
    public private(set) var keys: [String]
    private var keyIndex: [String: Int]
    private(set) var arguments: [String] = []
    public private(set) var count = 0

    init(guardKey: String) {
        keys = [guardKey]
        keyIndex = [guardKey: 1]
    }

    mutating func add(_ command: String, _ key: String, _ arguments: [String]) {
        let index: Int
        if let known = keyIndex[key] {
            index = known
        } else {
            keys.append(key)
            index = keys.count
            keyIndex[key] = index
        }
        self.arguments += [command, String(index), String(arguments.count)] + arguments
        count += 1
    }

    /// The `FCALL orders_project` that applies these changes if the guard is at `expected`.
    func command(guardField: String, expected: Int, guardValue: String) -> RedisCommand {
        var argv = ["FCALL", "orders_project", String(keys.count)] + keys
        argv += [String(FunctionLibrary.version), guardField, String(expected), guardValue, String(count)]
        argv += arguments
        return RedisCommand(arguments: argv.map { Array($0.utf8) })
    }
}
