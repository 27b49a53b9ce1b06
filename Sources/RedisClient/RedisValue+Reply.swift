import CHiredis

extension RedisValue {
    /// Converts a reply hiredis parsed (from a blocking context or a reader) into a Swift value
    /// that owns its bytes; the caller frees the reply.
    init(reply: UnsafeMutablePointer<redisReply>) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STATUS: self = .status(Self.text(r))
        case REDIS_REPLY_ERROR: self = .error(Self.text(r))
        case REDIS_REPLY_INTEGER: self = .integer(Int64(r.integer))
        case REDIS_REPLY_NIL: self = .null
        case REDIS_REPLY_STRING:
            guard let str = r.str, r.len > 0 else {
                self = .bulk([])
                return
            }
            self = .bulk(str.withMemoryRebound(to: UInt8.self, capacity: r.len) {
                Array(UnsafeBufferPointer(start: $0, count: r.len))
            })
        case REDIS_REPLY_ARRAY:
            var values: [RedisValue] = []
            values.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = r.element[i] { values.append(RedisValue(reply: element)) } else { values.append(.null) }
            }
            self = .array(values)
        default:
            self = .error("unsupported reply type \(r.type)")
        }
    }

    private static func text(_ r: redisReply) -> String {
        guard let str = r.str else { return "" }
        return str.withMemoryRebound(to: UInt8.self, capacity: r.len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: r.len), as: UTF8.self)
        }
    }
}
