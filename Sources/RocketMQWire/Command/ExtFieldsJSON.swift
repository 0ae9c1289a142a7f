import NIOCore

/// Reading fields that are still the JSON object of a decoded frame (see ``ExtFields/init(json:)``): the object was
/// validated when the frame was decoded, so these walks do not fail; should one ever meet bad bytes it stops there.
extension ExtFields {
    /// The entries of a JSON object, in wire order (a repeated key keeps its last non-`null` value; `null` values are
    /// absent; number values and booleans as their text; keys that are common header names are those literals).
    static func decoding(json: ByteBuffer) -> ExtFields {
        var fields = ExtFields()
        json.withUnsafeReadableBytes { bytes in
            var parser = JSONParser(bytes: bytes)
            try? parser.readObject(matchingKeys: KnownHeaderKey.string(for:)) { parser, key in
                guard let key, let token = try parser.headerFieldToken() else { return }
                fields[key] = token.string
            }
        }
        return fields
    }

    /// The value of `key` in a JSON object, without decoding the other members.
    static func value(of key: String, in json: ByteBuffer) -> String? {
        var key = key
        return key.withUTF8 { wanted in
            json.withUnsafeReadableBytes { bytes in
                var parser = JSONParser(bytes: bytes)
                var found: String?
                try? parser.readObject(matchingKeys: { $0.equals(UnsafeRawBufferPointer(wanted)) }) { parser, hit in
                    if hit == true {
                        if let token = try parser.headerFieldToken() { found = token.string }
                    } else if try !parser.skipScalar() {
                        _ = try parser.parseValue()
                    }
                }
                return found
            }
        }
    }

    /// Calls `body` with each field whose key `match` recognises, in wire order, skipping `null` values: the one pass
    /// of the headers every message decodes. From a frame's JSON the values arrive as bytes where they can (no
    /// `String` per value), otherwise as text.
    func forEachField<Key>(
        matching match: (UnsafeRawBufferPointer) -> Key?, _ body: (Key, HeaderFieldToken) throws -> Void
    ) throws {
        guard let json else {
            for (key, value) in entries {
                var key = key
                if let k = key.withUTF8({ match(UnsafeRawBufferPointer($0)) }) { try body(k, .text(value)) }
            }
            return
        }
        try json.withUnsafeReadableBytes { bytes in
            var parser = JSONParser(bytes: bytes)
            try parser.readObject(matchingKeys: match) { parser, key in
                guard case let key?? = key else {
                    if try !parser.skipScalar() { _ = try parser.parseValue() }
                    return
                }
                if let token = try parser.headerFieldToken() { try body(key, token) }
            }
        }
    }
}
