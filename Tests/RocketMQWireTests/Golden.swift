import Foundation
import NIOCore
import RocketMQWire

/// Loads the golden vectors (produced by Apache RocketMQ 5.3.3's Java classes) copied into this test bundle.
enum Golden {
    /// Every line of `golden/<name>.jsonl`, parsed.
    static func lines(_ name: String) throws -> [JSONValue] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "jsonl", subdirectory: "golden") else {
            throw GoldenError("golden/\(name).jsonl is missing from the test bundle")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    /// The lines of `name` whose `key` equals `value`.
    static func lines(_ name: String, where key: String, is value: String) throws -> [JSONValue] {
        try lines(name).filter { $0[key]?.stringValue == value }
    }

    /// Decodes lower- or upper-case hex.
    static func bytes(hex: String) throws -> [UInt8] {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { throw GoldenError("odd-length hex") }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { throw GoldenError("bad hex") }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func buffer(hex: String) throws -> ByteBuffer {
        ByteBuffer(bytes: try bytes(hex: hex))
    }

    /// Lower-case hex of `bytes`.
    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

struct GoldenError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import Testing

/// Golden lines print as their case name in test output instead of the whole record.
extension JSONValue: CustomTestStringConvertible {
    public var testDescription: String {
        let parts = ["kind", "name", "serialize_type", "strategy", "type"].compactMap { self[$0]?.stringValue }
        if !parts.isEmpty { return parts.joined(separator: "/") }
        let text = String(decoding: JSONWriter.encode(self), as: UTF8.self)
        return text.count > 80 ? String(text.prefix(80)) + "…" : text
    }
}
