import RedisClient
import Testing

/// The slot function and the key each command is routed by: pure, no server.
struct HashSlotTests {
    @Test func slotsMatchRedis() {
        // Values from `CLUSTER KEYSLOT` of Redis 7.0.
        #expect(HashSlot.of("foo") == 12182)
        #expect(HashSlot.of("somekey") == 11058)
        #expect(HashSlot.of("123456789") == 0x31C3 % 16384)
        #expect(HashSlot.of("orders:{0}:log") == HashSlot.of("0"))
    }

    @Test func hashTagsDecide() {
        #expect(HashSlot.of("{user1000}.following") == HashSlot.of("{user1000}.followers"))
        #expect(HashSlot.of("orders:{3}:stream:abc") == HashSlot.of("orders:{3}:view:live"))
        // An empty tag is no tag: the whole key is hashed.
        #expect(HashSlot.of("{}foo") != HashSlot.of(""))
        #expect(HashSlot.of("foo{}{bar}") == HashSlot.of("foo{}{bar}"))
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
    }

    @Test func commandsAreRoutedByTheirKey() {
        let tag = HashSlot.of("orders:{2}:log")
        #expect(RedisCommand("GET", "orders:{2}:x").slot == tag)
        #expect(RedisCommand("FCALL", "orders_append", 2, "orders:{2}:stream:a", "orders:{2}:log", "arg").slot == tag)
        #expect(RedisCommand("FCALL_RO", "orders_version", 0).slot == nil)
        #expect(RedisCommand("XREADGROUP", "GROUP", "g", "c", "COUNT", 10, "STREAMS", "orders:{2}:log", ">").slot == tag)
        #expect(RedisCommand("XINFO", "GROUPS", "orders:{2}:log").slot == tag)
        #expect(RedisCommand("SCAN", 0, "MATCH", "orders:{2}:stream:*", "COUNT", 100).slot == HashSlot.of("orders:{2}:stream:*"))
        #expect(RedisCommand("SCAN", 0, "MATCH", "orders:*").slot == nil)
        #expect(RedisCommand("MULTI").slot == nil)
        #expect(RedisCommand("PING").slot == nil)
        #expect(RedisCommand("FUNCTION", "LOAD", "REPLACE", "code").slot == nil)
    }
}
