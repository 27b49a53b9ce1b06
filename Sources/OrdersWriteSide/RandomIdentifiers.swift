import Synchronization
import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Random UUIDs (version 4, lowercase) for new orders and events, from a pool of kernel
/// randomness refilled 4 KB at a time. Foundation's `UUID()` opened and read /dev/urandom for
/// every id: a tenth of the service's CPU under createOrder load.
public enum RandomIdentifiers {
    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var offset = 4096

        mutating func take16() -> (UInt64, UInt64) {
            if offset + 16 > bytes.count {
                var filled = 0
                while filled < bytes.count {
                    let got = bytes.withUnsafeMutableBytes { getrandom($0.baseAddress! + filled, $0.count - filled, 0) }
                    if got > 0 { filled += got } else if errno != EINTR { fatalError("getrandom failed: errno \(errno)") }
                }
                offset = 0
            }
            defer { offset += 16 }
            return bytes.withUnsafeBytes {
                ($0.loadUnaligned(fromByteOffset: offset, as: UInt64.self), $0.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            }
        }
    }
    private static let pool = Mutex(Pool())

    /// A new random UUID as 36 lowercase characters (8-4-4-4-12 hex digits).
    public static func uuid() -> String {
        var (high, low) = pool.withLock { $0.take16() }
        high = (high & ~(0xF << 12)) | (0x4 << 12)          // version 4
        low = (low & ~(0x3 << 62)) | (0x2 << 62)            // RFC 4122 variant
        let hex: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            func put(_ value: UInt64, _ nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    buffer[index] = hex.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            put(high >> 32, 8); buffer[index] = UInt8(ascii: "-"); index += 1
            put(high >> 16, 4); buffer[index] = UInt8(ascii: "-"); index += 1
            put(high, 4); buffer[index] = UInt8(ascii: "-"); index += 1
            put(low >> 48, 4); buffer[index] = UInt8(ascii: "-"); index += 1
            put(low, 12)
            return 36
        }
    }
}
