import NIOCore

/// One message of a SEND_BATCH_MESSAGE body: only flag, body and properties travel per message.
public struct BatchEntry: Hashable, Sendable {
    /// The body (never compressed in a batch).
    public var body: ByteBuffer
    /// The user flag.
    public var flag: Int32
    /// The message's own properties (each carries its own UNIQ_KEY).
    public var properties: MessageProperties

    /// Creates an entry.
    public init(body: ByteBuffer, flag: Int32 = 0, properties: MessageProperties = MessageProperties()) {
        self.body = body
        self.flag = flag
        self.properties = properties
    }
}

/// The SEND_BATCH_MESSAGE body (PROTOCOL.md §4.1, Java's `MessageDecoder.encodeMessages` / `decodeMessages`):
/// per message TOTALSIZE = 22 + bodyLen + propsLen, MAGICCODE 0, BODYCRC 0, FLAG, int32 bodyLen + body,
/// int16 propsLen + properties.
public enum MessageBatch {
    /// The fixed bytes of one entry.
    static let entryOverhead = 22

    /// Encodes `entries` into a new buffer. Throws `WireError(.unencodable)` for properties over 32767 bytes or
    /// with separators in names/values, or an entry over 2 GiB.
    public static func encode(_ entries: [BatchEntry]) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try encode(entries, into: &buffer)
        return buffer
    }

    /// Encodes `entries` at the end of `buffer`; on error nothing is written.
    public static func encode(_ entries: [BatchEntry], into buffer: inout ByteBuffer) throws {
        var total = 0
        for entry in entries {
            try entry.properties.validate()
            let propertiesLength = entry.properties.encodedByteCount
            guard propertiesLength <= Int(Int16.max) else {
                throw WireError(.unencodable, "batch entry properties of \(propertiesLength) bytes exceed 32767")
            }
            let size = entryOverhead + entry.body.readableBytes + propertiesLength
            guard size <= Int(Int32.max) else {
                throw WireError(.unencodable, "batch entry of \(size) bytes exceeds 2 GiB")
            }
            total += size
        }
        buffer.reserveCapacity(minimumWritableBytes: total)
        for entry in entries {
            let propertiesLength = entry.properties.encodedByteCount
            buffer.writeInteger(Int32(entryOverhead + entry.body.readableBytes + propertiesLength))
            buffer.writeInteger(Int32(0))  // MAGICCODE
            buffer.writeInteger(Int32(0))  // BODYCRC
            buffer.writeInteger(entry.flag)
            buffer.writeInteger(Int32(entry.body.readableBytes))
            buffer.writeImmutableBuffer(entry.body)
            buffer.writeInteger(Int16(propertiesLength))
            entry.properties.write(into: &buffer)
        }
    }

    /// Decodes a batch body; bodies are slices of `body` (no copy). Throws `WireError` when an entry's TOTALSIZE
    /// is out of range, a length is negative, or the lengths do not add up to TOTALSIZE.
    public static func decode(_ body: ByteBuffer) throws -> [BatchEntry] {
        var entries: [BatchEntry] = []
        var i = body.readerIndex
        let end = body.writerIndex
        while i < end {
            guard end - i >= 4, let size32 = body.getInteger(at: i, as: Int32.self) else {
                throw WireError(.truncated, "batch ends inside an entry's TOTALSIZE")
            }
            let size = Int(size32)
            guard size >= entryOverhead else {
                throw WireError(.invalidLength, "batch entry TOTALSIZE \(size) is below \(entryOverhead)")
            }
            guard size <= end - i else {
                throw WireError(.truncated, "batch entry TOTALSIZE \(size) exceeds the \(end - i) bytes left")
            }
            guard let flag = body.getInteger(at: i + 12, as: Int32.self),
                let bodyLength32 = body.getInteger(at: i + 16, as: Int32.self)
            else {
                throw WireError(.truncated, "batch entry truncated")
            }
            let bodyLength = Int(bodyLength32)
            guard bodyLength >= 0, bodyLength <= size - entryOverhead else {
                throw WireError(.invalidLength, "batch entry body length \(bodyLength) does not fit TOTALSIZE \(size)")
            }
            guard let propertiesLength16 = body.getInteger(at: i + 20 + bodyLength, as: Int16.self) else {
                throw WireError(.truncated, "batch entry truncated")
            }
            let propertiesLength = Int(propertiesLength16)
            guard propertiesLength >= 0, entryOverhead + bodyLength + propertiesLength == size else {
                throw WireError(
                    .corruptMessage,
                    "batch entry lengths (body \(bodyLength), properties \(propertiesLength)) do not add up to TOTALSIZE \(size)")
            }
            var entryBody = ByteBuffer()
            if bodyLength > 0 {
                guard let slice = body.getSlice(at: i + 20, length: bodyLength) else {
                    throw WireError(.truncated, "batch entry body lies outside the buffer")
                }
                entryBody = slice
            }
            let properties =
                propertiesLength == 0
                ? MessageProperties()
                : MessageProperties(buffer: body, at: i + 22 + bodyLength, length: propertiesLength)
            entries.append(BatchEntry(body: entryBody, flag: flag, properties: properties))
            i += size
        }
        return entries
    }
}
