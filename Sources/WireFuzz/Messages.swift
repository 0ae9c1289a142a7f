import RocketMQWire

/// Message-format decoders: wired in once the message codec lands.
func fuzzMessages(_ payload: UnsafeRawBufferPointer) {}

extension FuzzSeeds {
    static var messageSeeds: [[UInt8]] { [] }
}
