import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide

/// The error `body` throws, or nil when it succeeds: lets a test match an error's case and fields.
/// (Another error type comes back as nil too, and fails whatever case the test expects.)
public func failure<T>(_ body: () async throws -> T) async -> EventStoreError? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error as? EventStoreError
    }
}
