import OrdersDomain
import OrdersEventLog

/// Where command ids are remembered: one hash per quarter of the retention (`commands:<start>`),
/// dropped whole by Redis once the retention of its last possible entry has passed. A key per
/// command id cost ~180 bytes (five per order); a hash field costs about half. An id is looked
/// up in the five buckets that can hold it (four spans cover the retention, plus the current one)
/// and in the key written before library version 7.
struct CommandBuckets: Sendable {
    let keys: KeySchema
    let retention: Duration
    static let bucketsPerRetention: Int64 = 4

    private var span: Int64 { max(1, retention.milliseconds / Self.bucketsPerRetention) }

    /// The keys to look in, newest first: the current bucket (written to), the older ones, and
    /// last the command id's key of the previous layout.
    func lookup(_ commandId: String, at now: Timestamp) -> [String] {
        let current = now.milliseconds - now.milliseconds % span
        return (0...Self.bucketsPerRetention).map { keys.commands(since: Timestamp(milliseconds: current - $0 * span)) }
            + [keys.command(commandId)]
    }

    /// When the current bucket may go: its last entry's retention has passed (epoch ms).
    func expiry(at now: Timestamp) -> Int64 {
        now.milliseconds - now.milliseconds % span + span + retention.milliseconds
    }
}
