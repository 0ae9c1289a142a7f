import Atomics

/// Creates UNIQ_KEYs (client message ids) with the byte layout of Java's `MessageClientIDSetter.createUniqID`
/// (PROTOCOL.md §5.6). Thread-safe; pure: the caller passes the time.
public final class UniqueIDGenerator: Sendable {
    /// The client address bytes (4 or 16).
    public let ip: [UInt8]
    /// The process id; its low 16 bits go into the id.
    public let pid: Int32
    /// Stands for Java's class-loader hash code: any per-process value.
    public let seed: Int32
    /// The fixed first part of every id: hex of ip + (short) pid + seed (20 or 44 characters).
    public let prefix: String
    private let counter: ManagedAtomic<UInt16>

    /// Creates a generator; the counter starts at `initialCounter` (Java starts at 0).
    public init(ip: [UInt8], pid: Int32, seed: Int32, initialCounter: UInt16 = 0) {
        self.ip = ip
        self.pid = pid
        self.seed = seed
        var fixed = ip
        appendBigEndian(UInt16(truncatingIfNeeded: pid), to: &fixed)
        appendBigEndian(seed, to: &fixed)
        prefix = Hex.upper(fixed)
        counter = ManagedAtomic(initialCounter)
    }

    /// The next id for the wall-clock time `nowMillis` (ms since 1970): prefix + (int) ms since 00:00 UTC on the
    /// first of the month + the 16-bit counter, which then advances (wrapping).
    public func next(nowMillis: Int64) -> String {
        var diff = Int32(truncatingIfNeeded: nowMillis - CivilTime.monthStart(containing: nowMillis))
        if diff < 0 && diff > -1_000_000 { diff = 0 }  // Java's guard against a clock stepping back
        let count = counter.loadThenWrappingIncrement(ordering: .relaxed)
        // One string, written in place: the prefix, then 8 hex digits of the time and 4 of the counter.
        let tail = UInt64(UInt32(bitPattern: diff)) << 16 | UInt64(count)
        var prefix = self.prefix
        return prefix.withUTF8 { head in
            String(unsafeUninitializedCapacity: head.count + 12) { out in
                for i in 0..<head.count { out[i] = head[i] }
                for k in 0..<12 {
                    out[head.count + k] = Hex.upperDigits[Int((tail >> UInt64(4 * (11 - k))) & 0xF)]
                }
                return head.count + 12
            }
        }
    }

    /// Java's fallback address when no interface has one (`createFakeIP`): bytes 4-7 of the big-endian time.
    public static func fakeIP(nowMillis: Int64) -> [UInt8] {
        var bytes: [UInt8] = []
        appendBigEndian(nowMillis, to: &bytes)
        return Array(bytes[4..<8])
    }
}
