/// Hex conversions for message ids (Java's `UtilAll.bytes2string` / `string2bytes`).
enum Hex {
    static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Upper-case hex of `bytes`, as Java's `UtilAll.bytes2string` writes it.
    static func upper<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let count = bytes.count
        return String(unsafeUninitializedCapacity: count * 2) { out in
            var i = 0
            for byte in bytes {
                out[i] = upperDigits[Int(byte >> 4)]
                out[i + 1] = upperDigits[Int(byte & 0x0F)]
                i += 2
            }
            return i
        }
    }

    /// Decodes upper- or lower-case hex; `nil` for an odd length or a non-hex character.
    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var high: UInt8 = 0
        var isHigh = true
        for c in utf8 {
            guard let n = nibble(c) else { return nil }
            if isHigh {
                high = n
            } else {
                out.append(high << 4 | n)
            }
            isHigh.toggle()
        }
        return out
    }

    @inline(__always)
    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c &- UInt8(ascii: "A") &+ 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
        default: return nil
        }
    }
}
