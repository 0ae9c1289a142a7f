/// An IPv4 (4 bytes) or IPv6 (16 bytes) address plus port, as the store format carries born and store hosts
/// (PROTOCOL.md §5.3: raw address bytes in network order, then an int32 port).
public struct MessageHost: Hashable, Sendable, CustomStringConvertible {
    /// The address bytes in network order: 4 for IPv4, 16 for IPv6. Other sizes cannot be encoded.
    public var ip: [UInt8]
    /// The port (Java writes it as an int32; valid ports are 0...65535).
    public var port: Int32

    /// Creates a host from raw address bytes and a port.
    public init(ip: [UInt8], port: Int32) {
        self.ip = ip
        self.port = port
    }

    /// Parses `"1.2.3.4:10911"` or `"[2001:db8::1]:10911"`; `nil` if the text is not an address with a port in
    /// 0...65535.
    public init?(_ string: String) {
        guard string.utf8.first == UInt8(ascii: "[") else {
            // IPv4, the common case (every store and born host): one pass over the bytes, no substrings.
            guard let (ip, port) = IPAddressText.parseIPv4WithPort(string.utf8) else { return nil }
            self.init(ip: ip, port: port)
            return
        }
        let text = Substring(string)
        guard let close = text.firstIndex(of: "]") else { return nil }
        let rest = text[text.index(after: close)...]
        guard rest.first == ":", let ip = IPAddressText.parseIPv6(text[text.index(after: text.startIndex)..<close]),
            let port = IPAddressText.port(rest.dropFirst().utf8)
        else { return nil }
        self.init(ip: ip, port: port)
    }

    /// Whether the address is IPv6 (16 bytes); the store format then uses a 20-byte host field.
    public var isIPv6: Bool { ip.count == 16 }

    /// The address alone: dotted decimal for IPv4, RFC 5952 text (`2001:db8::1`) for IPv6, hex otherwise.
    public var ipString: String {
        switch ip.count {
        case 4: return IPAddressText.ipv4(ip)
        case 16: return IPAddressText.ipv6RFC5952(ip)
        default: return Hex.upper(ip)
        }
    }

    /// The address as Java's `InetAddress.getHostAddress()` prints it: IPv6 uncompressed without leading zeros
    /// (`0:0:0:0:0:0:0:1`).
    public var javaIPString: String {
        switch ip.count {
        case 16: return IPAddressText.ipv6Java(ip)
        default: return ipString
        }
    }

    /// `"1.2.3.4:10911"` or `"[::1]:10911"`.
    public var description: String {
        guard ip.count == 4 else { return isIPv6 ? "[\(ipString)]:\(port)" : "\(ipString):\(port)" }
        // Every consumed message carries two of these: the digits straight into one small buffer.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
            var n = 0
            func put(_ value: Int64) {
                DecimalText.withDigits(of: value) { digits in
                    for d in digits {
                        out[n] = d
                        n += 1
                    }
                }
            }
            for (k, byte) in ip.enumerated() {
                if k > 0 { out[n] = UInt8(ascii: "."); n += 1 }
                put(Int64(byte))
            }
            out[n] = UInt8(ascii: ":")
            n += 1
            put(Int64(port))
            return String(decoding: UnsafeBufferPointer(rebasing: out[0..<n]), as: UTF8.self)
        }
    }
}

/// Text forms of IP addresses, without platform networking APIs.
enum IPAddressText {
    static func ipv4(_ ip: [UInt8]) -> String {
        "\(ip[0]).\(ip[1]).\(ip[2]).\(ip[3])"
    }

    private static func groups(_ ip: [UInt8]) -> [UInt16] {
        (0..<8).map { UInt16(ip[2 * $0]) << 8 | UInt16(ip[2 * $0 + 1]) }
    }

    /// `InetAddress.getHostAddress()`: eight lower-case hex groups without leading zeros.
    static func ipv6Java(_ ip: [UInt8]) -> String {
        groups(ip).map { String($0, radix: 16) }.joined(separator: ":")
    }

    /// `UtilAll.ipToIPv6Str`: eight four-digit lower-case hex groups.
    static func ipv6Expanded(_ ip: [UInt8]) -> String {
        groups(ip).map { group in
            let digits = String(group, radix: 16)
            return String(repeating: "0", count: 4 - digits.count) + digits
        }.joined(separator: ":")
    }

    /// RFC 5952: lower case, no leading zeros, the longest run (first on a tie) of two or more zero groups as `::`,
    /// IPv4-mapped addresses as `::ffff:a.b.c.d`.
    static func ipv6RFC5952(_ ip: [UInt8]) -> String {
        if ip[0..<10].allSatisfy({ $0 == 0 }) && ip[10] == 0xFF && ip[11] == 0xFF {
            return "::ffff:" + ipv4(Array(ip[12..<16]))
        }
        let g = groups(ip)
        var bestStart = -1
        var bestLength = 1
        var i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLength {
                    bestStart = i
                    bestLength = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        let hex = g.map { String($0, radix: 16) }
        guard bestStart >= 0 else { return hex.joined(separator: ":") }
        let head = hex[0..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }

    /// Dotted decimal, exactly four parts of 1-3 digits each in 0...255.
    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4)
        var value = 0
        var digits = 0
        for c in text.utf8 {
            if c == UInt8(ascii: ".") {
                guard digits > 0, bytes.count < 3 else { return nil }
                bytes.append(UInt8(value))
                value = 0
                digits = 0
            } else {
                guard c >= 0x30, c <= 0x39, digits < 3 else { return nil }
                value = value * 10 + Int(c - 0x30)
                digits += 1
                guard value <= 255 else { return nil }
            }
        }
        guard digits > 0, bytes.count == 3 else { return nil }
        bytes.append(UInt8(value))
        return bytes
    }

    /// `"a.b.c.d:port"` in one pass; nil unless exactly that with a port in 0...65535.
    static func parseIPv4WithPort(_ text: String.UTF8View) -> (ip: [UInt8], port: Int32)? {
        guard let colon = text.lastIndex(of: UInt8(ascii: ":")),
            let ip = parseIPv4(Substring(text[..<colon])),
            let port = port(text[text.index(after: colon)...])
        else { return nil }
        return (ip, port)
    }

    /// A decimal port of 1 to 5 digits, at most 65535.
    static func port<Bytes: Collection<UInt8>>(_ text: Bytes) -> Int32? {
        var value: Int32 = 0
        var digits = 0
        for c in text {
            guard c >= 0x30, c <= 0x39, digits < 5 else { return nil }
            value = value * 10 + Int32(c - 0x30)
            digits += 1
        }
        guard digits > 0, value <= 65535 else { return nil }
        return value
    }

    /// RFC 4291 text: hex groups, at most one `::`, optionally a trailing dotted IPv4 part.
    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        if let gap = text.firstRange(of: "::") {
            let head = text[..<gap.lowerBound]
            let tail = text[gap.upperBound...]
            guard !tail.contains("::"), let h = groupBytes(head, ipv4Tail: false),
                let t = groupBytes(tail, ipv4Tail: true), h.count + t.count <= 14
            else { return nil }
            return h + [UInt8](repeating: 0, count: 16 - h.count - t.count) + t
        }
        guard let all = groupBytes(text, ipv4Tail: true), all.count == 16 else { return nil }
        return all
    }

    private static func groupBytes(_ text: Substring, ipv4Tail: Bool) -> [UInt8]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var out: [UInt8] = []
        for (index, part) in parts.enumerated() {
            if ipv4Tail && index == parts.count - 1 && part.contains(".") {
                guard let v4 = parseIPv4(part) else { return nil }
                out += v4
                continue
            }
            guard !part.isEmpty, part.count <= 4, part.utf8.allSatisfy(isHexDigit),
                let value = UInt16(part, radix: 16)
            else { return nil }
            out.append(UInt8(value >> 8))
            out.append(UInt8(value & 0xFF))
        }
        return out.count <= 16 ? out : nil
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}
