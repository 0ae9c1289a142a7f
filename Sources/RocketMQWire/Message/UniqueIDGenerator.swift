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
    /// For a 4-byte address: the prefix's 10 bytes as the first 64 bits and the 16 after them (ids made as
    /// ``HexIDText`` without text).
    private let compactPrefix: (high: UInt64, low: UInt16)?

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
        if fixed.count == 10 {
            compactPrefix = (
                fixed[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, UInt16(fixed[8]) << 8 | UInt16(fixed[9]))
        } else {
            compactPrefix = nil
        }
    }

    /// ``next(nowMillis:)`` as a ``HexIDText``: for a 4-byte address its 16 bytes, no string made.
    package func nextID(nowMillis: Int64) -> HexIDText {
        guard let (high, low) = compactPrefix else { return HexIDText(next(nowMillis: nowMillis)) }
        return HexIDText(high: high, low: UInt64(low) << 48 | tail(nowMillis: nowMillis))
    }

    /// The id's last 6 bytes: ms since the start of the month (32 bits), then the counter, which advances.
    private func tail(nowMillis: Int64) -> UInt64 {
        var diff = Int32(truncatingIfNeeded: nowMillis - CivilTime.monthStart(containing: nowMillis))
        if diff < 0 && diff > -1_000_000 { diff = 0 }  // Java's guard against a clock stepping back
        let count = counter.loadThenWrappingIncrement(ordering: .relaxed)
        return UInt64(UInt32(bitPattern: diff)) << 16 | UInt64(count)
    }

    /// The next id for the wall-clock time `nowMillis` (ms since 1970): prefix + (int) ms since 00:00 UTC on the
    /// first of the month + the 16-bit counter, which then advances (wrapping).
    public func next(nowMillis: Int64) -> String {
        // One string, written in place: the prefix, then 8 hex digits of the time and 4 of the counter.
        let tail = tail(nowMillis: nowMillis)
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
