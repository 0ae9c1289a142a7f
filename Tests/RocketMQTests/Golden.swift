import Foundation
import Testing
import RocketMQ
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

    /// Decodes hex (either case).
    static func bytes(hex: String) throws -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { throw GoldenError("odd-length hex") }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let hi = nibble(digits[i]), let lo = nibble(digits[i + 1]) else { throw GoldenError("bad hex") }
            out.append(hi << 4 | lo)
        }
        return out
    }

    /// Lower-case hex of `bytes`.
    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

struct GoldenError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension JSONValue {
    /// A golden `{topic, brokerName, queueId}` object as a queue.
    var messageQueue: MessageQueue? {
        guard let topic = self["topic"]?.stringValue, let broker = self["brokerName"]?.stringValue,
            let queueId = self["queueId"]?.int32Value
        else { return nil }
        return MessageQueue(topic: topic, brokerName: broker, queueId: queueId)
    }
}

/// One golden line as a test argument, shown by its `name` in test output.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    var line: JSONValue
    var testDescription: String { line["name"]?.stringValue ?? "?" }

    /// Every line of `golden/<file>.jsonl` as test arguments (empty when the file cannot be read; every suite also
    /// checks the line count, so that cannot pass silently).
    static func all(_ file: String) -> [GoldenCase] {
        ((try? Golden.lines(file)) ?? []).map { GoldenCase(line: $0) }
    }
}
