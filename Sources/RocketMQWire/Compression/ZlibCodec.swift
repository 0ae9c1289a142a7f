import CZlib

/// zlib streams (RFC 1950) through the system zlib: what `java.util.zip.Deflater` / `InflaterInputStream` use.
enum ZlibCodec {
    static func compress(_ input: UnsafeRawBufferPointer, level: Int32) throws -> [UInt8] {
        guard level >= -1 && level <= 9 else {
            throw WireError(.compressionFailed, "zlib level \(level) is outside -1...9")
        }
        guard input.count <= Int(UInt32.max) else {
            throw WireError(.compressionFailed, "zlib input of \(input.count) bytes is too large")
        }
        let bound = Int(compressBound(uLong(input.count)))
        return try [UInt8](unsafeUninitializedCapacity: bound) { out, initialized in
            var destLength = uLong(bound)
            let source = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
            let status = compress2(out.baseAddress, &destLength, source, uLong(input.count), level)
            guard status == Z_OK else {
                initialized = 0
                throw WireError(.compressionFailed, "zlib compress2 failed with status \(status)")
            }
            initialized = Int(destLength)
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into sink: inout OutputSink) throws {
        var stream = z_stream()
        let initStatus = inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else {
            throw WireError(.decompressionFailed, "zlib inflateInit failed with status \(initStatus)")
        }
        defer { inflateEnd(&stream) }

        var consumed = 0
        while true {
            // zlib counts in 32 bits: feed large inputs in slices.
            if stream.avail_in == 0 && consumed < input.count {
                let slice = min(input.count - consumed, Int(UInt32.max))
                stream.next_in = UnsafeMutablePointer(
                    mutating: input.baseAddress.map { ($0 + consumed).assumingMemoryBound(to: Bytef.self) })
                stream.avail_in = uInt(slice)
                consumed += slice
            }
            let inBefore = stream.avail_in
            var status: Int32 = Z_OK
            var written = 0
            try sink.write { out in
                stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                written = out.count - Int(stream.avail_out)
                stream.next_out = nil
                stream.avail_out = 0
                return written
            }
            switch status {
            case Z_STREAM_END:
                return
            case Z_OK, Z_BUF_ERROR:
                let madeProgress = written > 0 || stream.avail_in != inBefore
                if !madeProgress && stream.avail_in == 0 && consumed == input.count {
                    throw WireError(.decompressionFailed, "zlib stream truncated")
                }
                if !madeProgress && status == Z_BUF_ERROR {
                    throw WireError(.decompressionFailed, "zlib inflate made no progress")
                }
            case Z_NEED_DICT:
                throw WireError(.decompressionFailed, "zlib stream needs a preset dictionary")
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                throw WireError(.decompressionFailed, "zlib inflate failed: \(message)")
            }
        }
    }
}
