#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

/// Whether `bytes` are valid UTF-8, without making a `String` when they are ASCII (nearly always).
func isValidWireUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var seen: UInt8 = 0
    for b in bytes { seen |= b }
    return seen < 0x80 || String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) != nil
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

extension UnsafeRawBufferPointer {
    /// Whether these bytes are exactly `literal`'s UTF-8 (recognising a key without making a `String`).
    @inline(__always)
    func equals(_ literal: StaticString) -> Bool {
        guard literal.utf8CodeUnitCount == count else { return false }
        return literal.withUTF8Buffer { text in
            for i in 0..<text.count where text[i] != self[i] { return false }
            return true
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether both hold the same bytes.
    @inline(__always)
    func equals(_ other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        guard count > 0, let a = baseAddress, let b = other.baseAddress else { return true }
        return memcmp(a, b, count) == 0
    }
}
