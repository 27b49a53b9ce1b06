import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import RedisClient
import Testing

struct EventStoreErrorTests {
    /// A Redis that restarts answers LOADING while it reads its AOF: that is an outage the client
    /// retries (`unavailable`), not an internal error. The soak's outage suite found this.
    @Test(arguments: ["LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script",
                      "MASTERDOWN Link with MASTER is down", "READONLY You can't write against a read only replica.",
                      "TRYAGAIN Multiple keys request during rehashing of slot", "CLUSTERDOWN The cluster is down"])
    func serverErrorsOfARedisThatCannotServeAreUnavailable(message: String) {
        guard case .unavailable(_, let outcomeUnknown) = EventStoreError.from(RedisError.server(message)) else {
            Issue.record("\(message) was not mapped to unavailable")
            return
        }
        #expect(!outcomeUnknown, "the command did not run")
    }

    @Test func otherServerErrorsStayRedisErrors() {
        guard case .redis = EventStoreError.from(RedisError.server("WRONGTYPE Operation against a key holding the wrong kind of value")) else {
            Issue.record("WRONGTYPE should stay a Redis error")
            return
        }
        guard case .redis = EventStoreError.from(RedisError.server("LOADINGX not a real prefix")) else {
            Issue.record("only whole words count")
            return
        }
    }
}
