/// Redis Cluster's key → slot function: CRC16 (XMODEM) of the key's hash tag, modulo 16,384.
///
/// The hash tag is the part between the first `{` and the first `}` after it, when that part is
/// not empty; otherwise the whole key. Keys that share a tag share a slot, which is how every key
/// of one partition (`orders:{3}:…`) lands on one node and can be touched by one atomic call.
public enum HashSlot {
    public static let count = 16_384

    public static func of(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { of(bytes: $0) }
    }

    public static func of(_ key: [UInt8]) -> Int {
        key.withUnsafeBufferPointer { of(bytes: $0) }
    }

    public static func of(bytes key: UnsafeBufferPointer<UInt8>) -> Int {
        let tagged = tag(of: key)
        return Int(crc16(UnsafeBufferPointer(rebasing: key[tagged])) & UInt16(count - 1))
    }

    /// The range of `key` that is hashed: its hash tag, or all of it.
    static func tag(of key: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1 else { return 0..<key.count }
        return (open + 1)..<close
    }

    static func crc16(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// CRC16-CCITT (polynomial 0x1021, XMODEM), a byte at a time.
    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
