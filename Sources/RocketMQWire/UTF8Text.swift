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
