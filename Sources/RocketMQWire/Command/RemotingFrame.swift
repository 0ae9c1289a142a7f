import NIOCore

/// The remoting frame layout: `int32 L | int32 (serializeType << 24 | H) | header (H bytes) | body`.
///
/// `L` counts everything after itself. Java's decoder (`LengthFieldBasedFrameDecoder`) rejects a frame whose
/// `L + 4` exceeds 16 MiB and closes the channel; ``maxFrameLength`` mirrors that limit.
public enum RemotingFrame {
    /// The largest frame accepted, length prefix included: 16 MiB (Java's `frameMaxLength`).
    public static let defaultMaxFrameLength = 16_777_216

    /// Splits the next complete frame off `buffer`, returning it **without** its 4-byte length prefix.
    ///
    /// Returns `nil` (consuming nothing) when more bytes are needed. Throws for a negative length, a length too
    /// small to hold the header-length word, or a frame over `maxFrameLength`.
    public static func split(
        _ buffer: inout ByteBuffer, maxFrameLength: Int = defaultMaxFrameLength
    ) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard length >= 4 else {
            throw WireError(.invalidLength, "frame length \(length) is smaller than the 4-byte header-length word")
        }
        guard Int(length) + 4 <= maxFrameLength else {
            throw WireError(.frameTooLarge, "frame of \(Int(length) + 4) bytes exceeds the maximum of \(maxFrameLength)")
        }
        guard buffer.readableBytes >= Int(length) + 4 else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        // Cannot fail: readable bytes were checked above.
        return buffer.readSlice(length: Int(length))
    }

    /// Encodes `command` as a complete frame (length prefix included) at the end of `buffer`.
    public static func encode(_ command: RemotingCommand, into buffer: inout ByteBuffer) throws {
        let start = buffer.writerIndex
        buffer.writeInteger(Int32(0))  // length, patched below
        buffer.writeInteger(Int32(0))  // header-length word, patched below
        let headerStart = buffer.writerIndex
        switch command.serializeType {
        case .json: writeJSONHeader(command, into: &buffer)
        case .rocketmq: try writeBinaryHeader(command, into: &buffer)
        }
        let headerLength = buffer.writerIndex - headerStart
        guard headerLength <= 0xFF_FFFF else {
            buffer.moveWriterIndex(to: start)
            throw WireError(.unencodable, "header of \(headerLength) bytes does not fit 24 bits")
        }
        if var body = command.body {
            buffer.writeBuffer(&body)
        }
        let total = buffer.writerIndex - start
        guard total <= defaultMaxFrameLength else {
            buffer.moveWriterIndex(to: start)
            throw WireError(.frameTooLarge, "encoded frame of \(total) bytes exceeds \(defaultMaxFrameLength)")
        }
        buffer.setInteger(Int32(total - 4), at: start)
        buffer.setInteger(Int32(command.serializeType.rawValue) << 24 | Int32(headerLength), at: start + 4)
    }

    /// Encodes `command` as a complete frame into a new buffer.
    public static func encode(_ command: RemotingCommand, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256 + (command.body?.readableBytes ?? 0))
        try encode(command, into: &buffer)
        return buffer
    }

    /// Decodes a frame **without** its length prefix (what ``split(_:maxFrameLength:)`` returns).
    public static func decode(_ frame: ByteBuffer) throws -> RemotingCommand {
        var frame = frame
        guard let word = frame.readInteger(as: UInt32.self) else {
            throw WireError(.truncated, "frame of \(frame.readableBytes) bytes has no header-length word")
        }
        let headerLength = Int(word & 0xFF_FFFF)
        guard headerLength <= frame.readableBytes else {
            throw WireError(.badHeaderLength, "header length \(headerLength) exceeds the \(frame.readableBytes) bytes left in the frame")
        }
        guard let type = SerializeType(rawValue: UInt8(word >> 24)) else {
            throw WireError(.unknownSerializeType, "serialize type \(word >> 24) is neither JSON (0) nor ROCKETMQ (1)")
        }
        // Cannot fail: length checked above.
        guard var header = frame.readSlice(length: headerLength) else {
            throw WireError(.truncated, "header truncated")
        }
        var command: RemotingCommand
        switch type {
        case .json: command = try readJSONHeader(&header)
        case .rocketmq: command = try readBinaryHeader(&header)
        }
        command.serializeType = type
        command.body = frame.readableBytes > 0 ? frame : nil
        return command
    }

    /// Decodes a complete frame **with** its length prefix.
    public static func decodeWithLengthPrefix(_ frame: ByteBuffer, maxFrameLength: Int = defaultMaxFrameLength) throws -> RemotingCommand {
        var buffer = frame
        guard let inner = try split(&buffer, maxFrameLength: maxFrameLength) else {
            throw WireError(.truncated, "incomplete frame: \(frame.readableBytes) bytes")
        }
        guard buffer.readableBytes == 0 else {
            throw WireError(.invalidLength, "\(buffer.readableBytes) bytes follow the frame")
        }
        return try decode(inner)
    }

    // MARK: JSON header

    static func writeJSONHeader(_ command: RemotingCommand, into buffer: inout ByteBuffer) {
        // Straight into the buffer's free space; escapes (\u0001 → 6 bytes) can outgrow the estimate, and then the
        // header is written again with room for what it needed.
        var room = 224 + (command.remark?.utf8.count ?? 0) + (command.extFields?.estimatedJSONByteCount ?? 0)
        while true {
            var needed: Int?
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { region in
                var w = FrameJSONWriter(region)
                writeJSONHeader(command, to: &w)
                if w.overflowed { needed = w.needed }
                return w.overflowed ? 0 : w.needed
            }
            guard let needed else { return }
            room = needed
        }
    }

    private static func writeJSONHeader(_ command: RemotingCommand, to w: inout FrameJSONWriter) {
        w.writeRaw("{\"code\":")
        w.writeInt(command.code)
        if let ext = command.extFields, let direct = ext.direct {
            w.writeRaw(",\"extFields\":{")
            direct.writeJSONMembers(into: &w)
            w.writeRaw("}")
        } else if let ext = command.extFields {
            w.writeRaw(",\"extFields\":{")
            var first = true
            ext.forEachInJavaHashMapOrder { key, value in
                if !first { w.writeByte(UInt8(ascii: ",")) }
                first = false
                w.writeString(key)
                w.writeByte(UInt8(ascii: ":"))
                w.writeString(value)
            }
            w.writeRaw("}")
        }
        w.writeRaw(",\"flag\":")
        w.writeInt(command.flag)
        w.writeRaw(",\"language\":")
        if let name = command.language.name {
            w.writeString(name)
        } else {
            w.writeInt(command.language.rawValue)
        }
        w.writeRaw(",\"opaque\":")
        w.writeInt(command.opaque)
        if let remark = command.remark {
            w.writeRaw(",\"remark\":")
            w.writeString(remark)
        }
        w.writeRaw(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":")
        w.writeInt(command.version)
        w.writeRaw("}")
    }

    /// Reads the header member by member from the bytes (no ``JSONValue`` tree: this runs for every frame), with the
    /// tree's rules for anything unusual: numbers may come as strings, extFields values as numbers or booleans,
    /// `null` means absent, unknown keys are skipped (as fastjson does).
    static func readJSONHeader(_ header: inout ByteBuffer) throws -> RemotingCommand {
        var extFieldsRange: Range<Int>?
        var command = try header.withUnsafeReadableBytes { bytes in
            var parser = JSONParser(bytes: bytes)
            parser.skipWhitespace()
            guard parser.peek() == UInt8(ascii: "{") else {
                throw WireError(.malformedJSON, "JSON header is not an object")
            }
            var command = RemotingCommand(code: 0, language: .java, version: 0)
            try parser.readObject(matchingKeys: HeaderMember.init(key:)) { parser, key in
                switch key {
                case .code?: command.code = try int32(&parser, "code")
                case .flag?: command.flag = try int32(&parser, "flag")
                case .opaque?: command.opaque = try int32(&parser, "opaque")
                case .version?: command.version = try int32(&parser, "version")
                case .remark?:
                    if parser.peek() == UInt8(ascii: "\"") {
                        command.remark = try parser.parseString()
                        return
                    }
                    let v = try parser.parseValue()
                    if v.isNull { command.remark = nil } else if let s = v.scalarText { command.remark = s } else {
                        throw WireError(.malformedJSON, "header remark is not a string")
                    }
                case .language?:
                    switch try parser.parseValue() {
                    case .string(let name):
                        // Java maps unknown names to null; keep a recognisable value instead of failing.
                        command.language = LanguageCode(name: name) ?? .other
                    case .number(let n):
                        guard let b = Int64(n).flatMap({ UInt8(exactly: $0) }) else {
                            throw WireError(.malformedJSON, "header language ordinal out of range")
                        }
                        command.language = LanguageCode(rawValue: b)
                    case .null: break
                    default: throw WireError(.malformedJSON, "header language has the wrong type")
                    }
                case .extFields?:
                    guard parser.peek() == UInt8(ascii: "{") else {
                        guard try parser.parseValue().isNull else {
                            throw WireError(.malformedJSON, "extFields is not an object")
                        }
                        extFieldsRange = nil
                        return
                    }
                    // Checked here (a bad frame fails now), kept as bytes: hot headers read them in one pass.
                    let start = parser.position
                    try parser.skipFlatObject()
                    extFieldsRange = start..<parser.position
                case .other?, nil:
                    // serializeTypeCurrentRPC and unknown keys are ignored, as fastjson does.
                    if try !parser.skipScalar() { _ = try parser.parseValue() }
                }
            }
            try parser.finish()
            return command
        }
        if let range = extFieldsRange,
            let json = header.getSlice(at: header.readerIndex + range.lowerBound, length: range.count)
        {
            // Kept as bytes where a one-pass decoder reads them (sends, and answers: a send's is the hot one);
            // decoded now for other requests, whose headers look up field after field.
            let keepsBytes = command.isResponse || command.code == RequestCode.sendMessageV2.rawValue
                || command.code == RequestCode.sendBatchMessage.rawValue
            command.extFields = keepsBytes ? ExtFields(json: json) : ExtFields.decoding(json: json)
        }
        return command
    }

    /// The members of the JSON header this decoder reads, recognised from the key's bytes (no `String` per key).
    private enum HeaderMember {
        case code, flag, opaque, version, remark, language, extFields, other

        init(key: UnsafeRawBufferPointer) {
            func equals(_ literal: StaticString) -> Bool { key.equals(literal) }
            switch key.count {
            case 4: self = equals("code") ? .code : equals("flag") ? .flag : .other
            case 6: self = equals("opaque") ? .opaque : equals("remark") ? .remark : .other
            case 7: self = equals("version") ? .version : .other
            case 8: self = equals("language") ? .language : .other
            case 9: self = equals("extFields") ? .extFields : .other
            default: self = .other
            }
        }
    }

    private static func int32(_ parser: inout JSONParser, _ key: String) throws -> Int32 {
        guard let n = try parser.parseInt64(), let i = Int32(exactly: n) else {
            throw WireError(.malformedJSON, "header \(key) is not a 32-bit integer")
        }
        return i
    }

    // MARK: ROCKETMQ binary header

    static func writeBinaryHeader(_ command: RemotingCommand, into buffer: inout ByteBuffer) throws {
        guard let code = Int16(exactly: command.code) else {
            throw WireError(.unencodable, "code \(command.code) does not fit the ROCKETMQ header's int16")
        }
        buffer.writeInteger(code)
        buffer.writeInteger(command.language.rawValue)
        buffer.writeInteger(Int16(truncatingIfNeeded: command.version))
        buffer.writeInteger(command.opaque)
        buffer.writeInteger(command.flag)
        if let remark = command.remark, !remark.isEmpty {
            buffer.writeInteger(Int32(remark.utf8.count))
            buffer.writeString(remark)
        } else {
            buffer.writeInteger(Int32(0))
        }
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        if let ext = command.extFields {
            let entries = ext.binaryOrder == .insertion ? ext.entries : ext.javaHashMapOrdered
            for (key, value) in entries {
                guard let keyLength = Int16(exactly: key.utf8.count) else {
                    buffer.moveWriterIndex(to: lengthIndex)
                    throw WireError(.unencodable, "extFields key of \(key.utf8.count) bytes exceeds int16")
                }
                buffer.writeInteger(keyLength)
                buffer.writeString(key)
                buffer.writeInteger(Int32(value.utf8.count))
                buffer.writeString(value)
            }
        }
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex)
    }

    static func readBinaryHeader(_ header: inout ByteBuffer) throws -> RemotingCommand {
        let limit = header.readableBytes
        guard let code = header.readInteger(as: Int16.self),
            let language = header.readInteger(as: UInt8.self),
            let version = header.readInteger(as: Int16.self),
            let opaque = header.readInteger(as: Int32.self),
            let flag = header.readInteger(as: Int32.self),
            let remarkLength = header.readInteger(as: Int32.self)
        else { throw WireError(.truncated, "ROCKETMQ header shorter than its 17 fixed bytes") }
        guard remarkLength >= 0, Int(remarkLength) <= header.readableBytes else {
            throw WireError(.invalidLength, "remark length \(remarkLength) outside the header of \(limit) bytes")
        }
        var remark: String?
        if remarkLength > 0 {
            remark = try readUTF8(&header, length: Int(remarkLength), what: "remark")
        }
        guard let extLength = header.readInteger(as: Int32.self) else {
            throw WireError(.truncated, "ROCKETMQ header has no extFields length")
        }
        guard extLength >= 0, Int(extLength) <= header.readableBytes else {
            throw WireError(.invalidLength, "extFields length \(extLength) exceeds the \(header.readableBytes) bytes left")
        }
        var extFields: ExtFields?
        if extLength > 0 {
            guard var map = header.readSlice(length: Int(extLength)) else {
                throw WireError(.truncated, "extFields block truncated")
            }
            var ext = ExtFields()
            ext.binaryOrder = .insertion
            while map.readableBytes > 0 {
                guard let keyLength = map.readInteger(as: Int16.self), keyLength >= 0, Int(keyLength) <= map.readableBytes else {
                    throw WireError(.invalidLength, "extFields key length invalid or beyond the map block")
                }
                let key = keyLength == 0 ? nil : try readUTF8(&map, length: Int(keyLength), what: "extFields key")
                guard let valueLength = map.readInteger(as: Int32.self), valueLength >= 0, Int(valueLength) <= map.readableBytes else {
                    throw WireError(.invalidLength, "extFields value length invalid or beyond the map block")
                }
                let value = valueLength == 0 ? nil : try readUTF8(&map, length: Int(valueLength), what: "extFields value")
                if let key, let value { ext[key] = value }
            }
            extFields = ext
        }
        return RemotingCommand(
            code: Int32(code), language: LanguageCode(rawValue: language), version: Int32(version), opaque: opaque,
            flag: flag, remark: remark, extFields: extFields, body: nil, serializeType: .rocketmq)
    }

    private static func readUTF8(_ buffer: inout ByteBuffer, length: Int, what: String) throws -> String {
        guard let slice = buffer.readSlice(length: length) else {
            throw WireError(.truncated, "\(what) truncated")
        }
        let s = slice.withUnsafeReadableBytes { String(validatingWireBytes: $0) }
        guard let s else { throw WireError(.invalidUTF8, "\(what) is not valid UTF-8") }
        return s
    }
}

/// The field names of the headers on every message's path, as string literals: a decoded key that is one of them is
/// that literal (no `String` made, no reference counting, and looking it up by the same literal compares equal at
/// once); any other key is made from its bytes.
enum KnownHeaderKey {
    private static let names: [String] = [
        // SEND_MESSAGE_V2 and its answer
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
        "msgId", "queueId", "queueOffset", "transactionId", "batchUniqId", "MSG_REGION", "TRACE_ON",
        // PULL_MESSAGE and its answer, offsets
        "consumerGroup", "topic", "maxMsgNums", "sysFlag", "commitOffset", "suspendTimeoutMillis", "subscription",
        "subVersion", "expressionType", "maxMsgBytes", "suggestWhichBrokerId", "nextBeginOffset", "minOffset",
        "maxOffset", "offsetDelta", "topicSysFlag", "groupSysFlag", "forbiddenType",
        // 5.x common fields
        "bname", "ns", "nsd", "oway", "lo",
    ]

    private static let maxLength = 24

    /// The names by (UTF-8 length, first byte), with their bytes: a lookup compares against at most a couple.
    private static let table: [[(name: String, bytes: [UInt8])]] = {
        var table = [[(name: String, bytes: [UInt8])]](repeating: [], count: (maxLength + 1) * 128)
        for name in names {
            let bytes = Array(name.utf8)
            table[bytes.count * 128 + Int(bytes[0])].append((name, bytes))
        }
        return table
    }()

    /// The key whose UTF-8 bytes are `bytes` (which must be valid UTF-8).
    static func string(for bytes: UnsafeRawBufferPointer) -> String {
        if let first = bytes.first, first < 128, bytes.count <= maxLength {
            candidates: for candidate in table[bytes.count * 128 + Int(first)] {
                for i in 1..<max(1, bytes.count) where candidate.bytes[i] != bytes[i] { continue candidates }
                return candidate.name
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
