import OrdersAPI
import OrdersDomain
import OrdersEventLog
import OrdersReadSide
import Testing

/// Each layer has one error whose codes are the wire codes: the API answers with them as they are.
struct ErrorCodeTests {
    @Test func everyLayersCodesAreWireCodes() {
        let wire = Set(APIError.Code.allCases.map(\.rawValue))
        #expect(Set(DomainError.Code.allCases.map(\.rawValue)).isSubset(of: wire))
        #expect(Set(EventStoreError.Code.allCases.map(\.rawValue)).isSubset(of: wire))
        // A cancelled replay is how a replay ends, never an answer.
        #expect(Set(ReadSideError.Code.allCases.filter { $0 != .replayCancelled }.map(\.rawValue)).isSubset(of: wire))
    }

    @Test func aReadSideRefusalKeepsItsCodeAndDetails() {
        let running = APIError(ReadSideError(.replayRunning, "busy", replayId: "r-1"))
        #expect(running.code == .replayRunning && running.details["replayId"] as? String == "r-1")
        #expect(APIError(ReadSideError(.staleRead, "late")).code == .staleRead)
        #expect(APIError(DomainError.invalidTransition("no")).code == .invalidTransition)
    }
}
