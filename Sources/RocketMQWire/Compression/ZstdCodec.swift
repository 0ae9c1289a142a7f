import CZstd

/// Standard zstd frames through the system libzstd. Decompression uses the streaming API so that the frame's
/// declared content size is never trusted; the decoder's window memory is bounded by libzstd's default window limit
/// (2^27 bytes, as in zstd-jni), and output by the caller's cap.
enum ZstdCodec {
    static func compress(_ input: UnsafeRawBufferPointer, level: Int32) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        guard ZSTD_isError(bound) == 0 else {
            throw WireError(.compressionFailed, "zstd input of \(input.count) bytes is too large")
        }
        return try [UInt8](unsafeUninitializedCapacity: bound) { out, initialized in
            let result = ZSTD_compress(out.baseAddress, bound, input.baseAddress, input.count, level)
            guard ZSTD_isError(result) == 0 else {
                initialized = 0
                throw WireError(.compressionFailed, "zstd compress failed: \(String(cString: ZSTD_getErrorName(result)))")
            }
            initialized = result
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into sink: inout OutputSink) throws {
        guard let context = ZSTD_createDStream() else {
            throw WireError(.decompressionFailed, "zstd could not allocate a decompression context")
        }
        defer { ZSTD_freeDStream(context) }

        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            let inBefore = source.pos
            var hint = 0
            var written = 0
            var outputFull = false
            try sink.write { out in
                var target = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                hint = ZSTD_decompressStream(context, &target, &source)
                written = target.pos
                outputFull = target.pos == target.size
                return target.pos
            }
            if ZSTD_isError(hint) != 0 {
                throw WireError(.decompressionFailed, "zstd: \(String(cString: ZSTD_getErrorName(hint)))")
            }
            let inputDone = source.pos == source.size
            if hint == 0 && inputDone {
                return  // every frame complete and flushed
            }
            if inputDone && !outputFull {
                throw WireError(.decompressionFailed, "zstd frame truncated")
            }
            if written == 0 && source.pos == inBefore && !outputFull {
                throw WireError(.decompressionFailed, "zstd made no progress")
            }
        }
    }
}
