/// The command line after the subcommand: positional arguments, `--name value` options (some
/// repeatable) and `--flag` switches.
struct Arguments {
    private(set) var positional: [String] = []
    private var options: [String: [String]] = [:]
    private var flags: Set<String> = []

    init(_ words: [String], flags known: Set<String>) throws {
        var index = 0
        while index < words.count {
            let word = words[index]
            if word.hasPrefix("--") {
                let name = String(word.dropFirst(2))
                if known.contains(name) {
                    flags.insert(name)
                } else {
                    guard index + 1 < words.count else { throw UsageError("--\(name) needs a value") }
                    options[name, default: []].append(words[index + 1])
                    index += 1
                }
            } else {
                positional.append(word)
            }
            index += 1
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
