import NIOCore

/// The broker's message id, `offsetMsgId` (PROTOCOL.md §5.5): upper-case hex of store host ip + int32 port + int64
/// commit-log offset (32 characters for IPv4, 56 for IPv6).
public enum MessageID {
    /// Java's `MessageDecoder.createMessageId(storeHost, commitLogOffset)`.
    public static func offsetMessageID(storeHost: MessageHost, commitLogOffset: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(storeHost.ip.count + 12)
        bytes += storeHost.ip
        appendBigEndian(storeHost.port, to: &bytes)
        appendBigEndian(commitLogOffset, to: &bytes)
        return Hex.upper(bytes)
    }

    /// ``offsetMessageID(storeHost:commitLogOffset:)`` as a ``HexIDText``: for an IPv4 store host its 16 bytes, no
    /// string made.
    package static func offsetMessageIDText(storeHost: MessageHost, commitLogOffset: Int64) -> HexIDText {
        guard storeHost.ip.count == 4 else {
            return HexIDText(offsetMessageID(storeHost: storeHost, commitLogOffset: commitLogOffset))
        }
        let ip = storeHost.ip.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return HexIDText(
            high: ip << 32 | UInt64(UInt32(bitPattern: storeHost.port)), low: UInt64(bitPattern: commitLogOffset))
    }

    /// Java's `MessageDecoder.decodeMessageId`: 32 hex characters are an IPv4 id, 56 an IPv6 id; either case is
    /// accepted. Throws `WireError(.invalidIdentifier)` for any other length, a non-hex character, or a port outside
    /// 0...65535 (Java's `InetSocketAddress` rejects those too).
    public static func decodeOffsetMessageID(_ id: String) throws -> (storeHost: MessageHost, commitLogOffset: Int64) {
        let length = id.utf8.count
        guard length == 32 || length == 56, let bytes = Hex.decode(id) else {
            throw WireError(.invalidIdentifier, "offset message id \(id.debugDescription) is not 32 or 56 hex characters")
        }
        let ipLength = length == 32 ? 4 : 16
        let port = readBigEndian(bytes, at: ipLength, as: Int32.self)
        guard (0...65535).contains(port) else {
            throw WireError(.invalidIdentifier, "offset message id \(id) has port \(port) outside 0...65535")
        }
        let offset = readBigEndian(bytes, at: ipLength + 4, as: Int64.self)
        return (MessageHost(ip: Array(bytes[0..<ipLength]), port: port), offset)
    }
}

/// A parsed UNIQ_KEY (client message id, Java's `MessageClientIDSetter`, PROTOCOL.md §5.6): ip (4 or 16 bytes),
/// pid (2), class-loader hash (4), ms since the start of the month (4), counter (2), as upper-case hex.
public struct UniqueID: Hashable, Sendable, CustomStringConvertible {
    /// The client address: 4 or 16 bytes.
    public var ip: [UInt8]
    /// The low 16 bits of the process id, read unsigned (`getPidFromID`).
    public var pid: UInt16
    /// The class-loader hash code (a per-process random seed for non-Java clients).
    public var classLoaderHash: Int32
    /// Milliseconds since 00:00 on the first of the month, truncated to 32 bits (negative after about 24.8 days).
    public var timeSinceMonthStart: Int32
    /// The per-process counter.
    public var counter: UInt16

    /// Creates an id from its parts.
    public init(ip: [UInt8], pid: UInt16, classLoaderHash: Int32, timeSinceMonthStart: Int32, counter: UInt16) {
        self.ip = ip
        self.pid = pid
        self.classLoaderHash = classLoaderHash
        self.timeSinceMonthStart = timeSinceMonthStart
        self.counter = counter
    }

    /// Parses 32 (IPv4) or 56 (IPv6) hex characters of either case; throws `WireError(.invalidIdentifier)` otherwise.
    public init(parsing id: String) throws {
        let length = id.utf8.count
        guard length == 32 || length == 56, let bytes = Hex.decode(id) else {
            throw WireError(.invalidIdentifier, "UNIQ_KEY \(id.debugDescription) is not 32 or 56 hex characters")
        }
        let ipLength = bytes.count - 12
        ip = Array(bytes[0..<ipLength])
        pid = readBigEndian(bytes, at: ipLength, as: UInt16.self)
        classLoaderHash = readBigEndian(bytes, at: ipLength + 2, as: Int32.self)
        timeSinceMonthStart = readBigEndian(bytes, at: ipLength + 6, as: Int32.self)
        counter = readBigEndian(bytes, at: ipLength + 10, as: UInt16.self)
    }

    /// The id text: upper-case hex.
    public var description: String {
        var bytes = ip
        appendBigEndian(pid, to: &bytes)
        appendBigEndian(classLoaderHash, to: &bytes)
        appendBigEndian(timeSinceMonthStart, to: &bytes)
        appendBigEndian(counter, to: &bytes)
        return Hex.upper(bytes)
    }

    /// The address as Java's `getIPStrFromID` prints it: dotted decimal, or eight four-digit lower-case hex groups
    /// (`2001:0db8:0000:...`).
    public var ipString: String {
        switch ip.count {
        case 4: return IPAddressText.ipv4(ip)
        case 16: return IPAddressText.ipv6Expanded(ip)
        default: return Hex.upper(ip)
        }
    }

    /// Java's `getNearlyTimeFromID` with the clock passed in (months in UTC): the time field read **unsigned** added
    /// to the start of `nowMillis`'s month, or of the previous month if that is not before `nowMillis`.
    public func nearlyTime(nowMillis: Int64) -> Int64 {
        let span = Int64(UInt32(bitPattern: timeSinceMonthStart))
        var monthStart = CivilTime.monthStart(containing: nowMillis)
        if monthStart + span >= nowMillis {
            monthStart = CivilTime.previousMonthStart(monthStart)
        }
        return monthStart + span
    }
}

/// Months in UTC for UNIQ_KEY times (Java uses the JVM's default time zone; ids decode consistently in UTC).
enum CivilTime {
    private static let millisPerDay: Int64 = 86_400_000

    /// 00:00 UTC on the first day of the month containing `millis`.
    static func monthStart(containing millis: Int64) -> Int64 {
        let days = floorDivide(millis, millisPerDay)
        let (year, month, _) = civil(fromDays: days)
        return self.days(year: year, month: month, day: 1) * millisPerDay
    }

    /// 00:00 UTC on the first day of the month before the one starting at `monthStart`.
    static func previousMonthStart(_ monthStart: Int64) -> Int64 {
        let (year, month, _) = civil(fromDays: floorDivide(monthStart, millisPerDay))
        let (y, m) = month == 1 ? (year - 1, Int64(12)) : (year, month - 1)
        return days(year: y, month: m, day: 1) * millisPerDay
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    private static func civil(fromDays z0: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

@inline(__always)
func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    var v = value.bigEndian
    withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
}

@inline(__always)
func readBigEndian<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
    var value: T = 0
    for i in 0..<MemoryLayout<T>.size {
        value = value << 8 | T(truncatingIfNeeded: bytes[offset + i])
    }
    return value
}
