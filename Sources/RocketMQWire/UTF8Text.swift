extension String {
    /// `bytes` as a string when they are valid UTF-8, else nil. Pure ASCII (nearly every header key and value) is
    /// checked with one pass and decoded without the general validator, which costs far more per call.
    init?(validatingWireBytes bytes: UnsafeRawBufferPointer) {
        let units = bytes.assumingMemoryBound(to: UInt8.self)
        var seen: UInt8 = 0
        for b in units { seen |= b }
        if seen < 0x80 {
            self = String(decoding: units, as: UTF8.self)
            return
        }
        guard let s = String(validating: units, as: UTF8.self) else { return nil }
        self = s
    }
}

/// Decimal text of integers without an intermediate `String` (header numbers, host texts: every message).
enum DecimalText {
    /// Calls `body` with the ASCII digits of `value` (a leading `-` when negative).
    @inline(__always)
    static func withDigits<R>(of value: Int64, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value.magnitude
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                i -= 1
                digits[i] = UInt8(ascii: "-")
            }
            return body(UnsafeBufferPointer(rebasing: digits[i..<20]))
        }
    }
}
