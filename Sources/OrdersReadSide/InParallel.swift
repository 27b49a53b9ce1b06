/// Runs `work` on every element at once (each with its index) and answers in the elements'
/// order: how a query or a replay of a partitioned store reaches all its partitions. One element
/// (a store of one partition) is worked on in the caller's task, with no task to start.
func inParallel<Element: Sendable, T: Sendable>(_ elements: [Element],
                                                _ work: @escaping @Sendable (Int, Element) async throws -> T) async throws -> [T] {
    if elements.count == 1 { return [try await work(0, elements[0])] }
    return try await withThrowingTaskGroup(of: (Int, T).self) { group in
        for (index, element) in elements.enumerated() { group.addTask { (index, try await work(index, element)) } }
        var results = [T?](repeating: nil, count: elements.count)
        for try await (index, result) in group { results[index] = result }
        return results.map { $0! }
    }
}
