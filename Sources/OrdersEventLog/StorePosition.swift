/// Where an event sits in a partitioned store: its partition and its position on that
/// partition's log. Positions of different partitions are not ordered: read-your-writes waits
/// for the partition of the write.
///
/// Written `<partition>/<milliseconds>-<sequence>` (`3/1796523804495-0`); a store of one
/// partition writes and reads the bare log position, as it always did.
public struct StorePosition: Sendable, Hashable, CustomStringConvertible {
    public let partition: Int
    public let position: LogPosition

    public init(partition: Int, position: LogPosition) {
        self.partition = partition
        self.position = position
    }

    /// Parses either form; nil for text that is neither, or names a partition the store lacks.
    public init?(_ text: some StringProtocol, partitions: Int) {
        if let slash = text.firstIndex(of: "/") {
            guard let partition = Int(text[..<slash]), (0..<partitions).contains(partition),
                  let position = LogPosition(text[text.index(after: slash)...]) else { return nil }
            self.init(partition: partition, position: position)
        } else {
            guard partitions == 1, let position = LogPosition(text) else { return nil }
            self.init(partition: 0, position: position)
        }
    }

    public var description: String { "\(partition)/\(position)" }

    /// The text a client is given: bare in a store of one partition.
    public func text(partitions: Int) -> String { partitions == 1 ? position.description : description }
}
