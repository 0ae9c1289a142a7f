import CLZ4

/// The LZ4 frame format through the system liblz4, compatible with lz4-java's `LZ4FrameOutputStream` /
/// `LZ4FrameInputStream` (which supports only independent blocks).
enum LZ4FrameCodec {
    static func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max4MB  // lz4-java's default; liblz4 shrinks it for small inputs
        preferences.frameInfo.blockMode = LZ4F_blockIndependent  // lz4-java cannot read linked blocks
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        guard LZ4F_isError(bound) == 0 else {
            throw WireError(.compressionFailed, "lz4 input of \(input.count) bytes is too large")
        }
        return try [UInt8](unsafeUninitializedCapacity: bound) { out, initialized in
            let result = LZ4F_compressFrame(out.baseAddress, bound, input.baseAddress, input.count, &preferences)
            guard LZ4F_isError(result) == 0 else {
                initialized = 0
                throw WireError(.compressionFailed, "lz4 compress failed: \(String(cString: LZ4F_getErrorName(result)))")
            }
            initialized = result
        }
    }

    static func decompress(_ input: UnsafeRawBufferPointer, into sink: inout OutputSink) throws {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw WireError(.decompressionFailed, "lz4 could not allocate a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }

        var position = 0
        while true {
            var hint = 0
            var written = 0
            var consumed = 0
            var outputFull = false
            try sink.write { out in
                var dstSize = out.count
                var srcSize = input.count - position
                hint = LZ4F_decompress(
                    context, out.baseAddress, &dstSize, input.baseAddress.map { $0 + position }, &srcSize, nil)
                if LZ4F_isError(hint) != 0 { return 0 }
                written = dstSize
                consumed = srcSize
                outputFull = dstSize == out.count
                return dstSize
            }
            if LZ4F_isError(hint) != 0 {
                throw WireError(.decompressionFailed, "lz4: \(String(cString: LZ4F_getErrorName(hint)))")
            }
            position += consumed
            let inputDone = position == input.count
            if hint == 0 && inputDone {
                return  // every frame complete
            }
            if inputDone && !outputFull {
                throw WireError(.decompressionFailed, "lz4 frame truncated")
            }
            if written == 0 && consumed == 0 && !outputFull {
                throw WireError(.decompressionFailed, "lz4 made no progress")
            }
        }
    }
}
