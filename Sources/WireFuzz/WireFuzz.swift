// Fuzz entry point for the wire decoders.
//
// libFuzzer:   Scripts/fuzz.sh [seconds]      (builds with -sanitize=fuzzer,address -D FUZZING and runs libFuzzer)
// Without it:  swift run WireFuzz [iterations] [seed]   (a deterministic random-mutation run of the same entry point)
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import RocketMQ
import RocketMQWire

/// Which decoders a run exercises: `WIRE_FUZZ_TARGET` = `frames`, `json`, `messages`, `filter`, `extrainfo`, `trace`
/// or `all` (the default), so a long run can give each family its own time.
enum FuzzTarget: String {
    case frames, json, messages, filter, extrainfo, trace, all

    static let selected: FuzzTarget = {
        let name = getenv("WIRE_FUZZ_TARGET").map { String(cString: $0) } ?? "all"
        guard let target = FuzzTarget(rawValue: name) else {
            let message = "WireFuzz: unknown WIRE_FUZZ_TARGET \(name) (frames, json, messages, filter, extrainfo, trace, all)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            exit(2)
        }
        return target
    }()
}

/// Feeds one input to the selected decoders of bytes from peers. Decoders may throw; they must never crash or hang.
/// The first byte selects a variant (frames: stream or single frame); the rest is the payload for every family.
func fuzzOne(_ data: UnsafeRawBufferPointer) {
    guard let first = data.first else { return }
    let payload = UnsafeRawBufferPointer(rebasing: data.dropFirst())
    let target = FuzzTarget.selected
    if target == .frames || target == .all { fuzzFrames(payload, asStream: first % 2 == 0) }
    if target == .json || target == .all { fuzzJSON(payload) }
    if target == .messages || target == .all { fuzzMessages(payload) }
    if target == .filter || target == .all { fuzzFilter(payload) }
    if target == .extrainfo || target == .all { fuzzExtraInfo(payload) }
    if target == .trace || target == .all { fuzzTrace(payload) }
}

/// Every typed header, decoded from each frame's extFields the fuzzer produces (and re-encoded when it decodes).
let headerTypes: [any RemotingHeader.Type] = [
    GetConsumerRunningInfoRequestHeader.self,
    ConsumeMessageDirectlyResultRequestHeader.self,
    ResetOffsetRequestHeader.self,
    GetRouteInfoRequestHeader.self,
    HeartbeatRequestHeader.self,
    UnregisterClientRequestHeader.self,
    UnregisterClientResponseHeader.self,
    GetConsumerListByGroupRequestHeader.self,
    GetConsumerListByGroupResponseHeader.self,
    NotifyConsumerIdsChangedRequestHeader.self,
    ConsumerSendMsgBackRequestHeader.self,
    LockBatchMQRequestHeader.self,
    UnlockBatchMQRequestHeader.self,
    QueryConsumerOffsetRequestHeader.self,
    QueryConsumerOffsetResponseHeader.self,
    UpdateConsumerOffsetRequestHeader.self,
    UpdateConsumerOffsetResponseHeader.self,
    GetMaxOffsetRequestHeader.self,
    GetMinOffsetRequestHeader.self,
    SearchOffsetRequestHeader.self,
    OffsetResponseHeader.self,
    GetEarliestMsgStoreTimeRequestHeader.self,
    GetEarliestMsgStoreTimeResponseHeader.self,
    PullMessageRequestHeader.self,
    PullMessageResponseHeader.self,
    SendMessageRequestHeader.self,
    SendMessageResponseHeader.self,
    EndTransactionRequestHeader.self,
    CheckTransactionStateRequestHeader.self,
    ReplyMessageRequestHeader.self,
    QueryMessageRequestHeader.self,
    QueryMessageResponseHeader.self,
    ViewMessageRequestHeader.self,
    GetConsumeStatsRequestHeader.self,
    GetConsumerConnectionListRequestHeader.self,
    GetTopicStatsInfoRequestHeader.self,
]

/// Frames: a stream as a connection's decoder sees it, or one frame without its length prefix.
func fuzzFrames(_ payload: UnsafeRawBufferPointer, asStream: Bool) {
    var buffer = ByteBuffer(bytes: payload)
    if asStream {
        while let frame = try? RemotingFrame.split(&buffer, maxFrameLength: 1 << 20) {
            if let command = try? RemotingFrame.decode(frame) { roundTrip(command) }
        }
    } else if let command = try? RemotingFrame.decode(buffer) {
        roundTrip(command)
    }
}

/// Re-encodes a decoded command and reads its extFields as every typed header.
func roundTrip(_ command: RemotingCommand) {
    _ = try? RemotingFrame.encode(command)
    let fields = command.extFields ?? ExtFields()
    // Fields still backed by the frame's JSON: every way of reading them (lookups, entries, the one-pass decoders).
    _ = fields.dictionary
    _ = fields["a"]
    _ = try? SendMessageRequestHeader(v2Fields: fields)
    // A send answer's ids stay bytes until read; read them, and write them back as a broker's answer.
    if let answer = try? SendMessageResponseHeader(fields: fields) {
        _ = answer.msgId + (answer.transactionId ?? "")
        _ = try? RemotingFrame.encode(RemotingCommand(code: 0, extFields: answer.brokerResponseFields(region: "R", traceOn: true)))
    }
    var changed = fields
    changed["fuzz"] = "1"
    _ = try? RemotingFrame.encode(RemotingCommand(code: command.code, extFields: changed))
    for type in headerTypes {
        if let header = try? type.init(fields: fields) { _ = header.wireFields(for: command.serializeType) }
    }
}

/// JSON bodies in the fastjson dialect: the parser, then every body type decoded from the value (and re-encoded).
func fuzzJSON(_ payload: UnsafeRawBufferPointer) {
    guard let value = try? JSONParser.parse(payload) else { return }
    _ = JSONWriter.encode(value)
    _ = (try? TopicRouteData(json: value))?.encoded()
    _ = (try? HeartbeatData(json: value))?.encoded()
    _ = (try? ConsumerListBody(json: value))?.encoded()
    _ = (try? LockBatchRequestBody(json: value))?.encoded()
    _ = (try? LockBatchResponseBody(json: value))?.encoded()
    _ = (try? ConsumeMessageDirectlyResult(json: value))?.encoded()
    _ = (try? ResetOffsetBody(json: value))?.encoded()
    if let stats = try? ConsumeStats(json: value) {
        _ = stats.encoded()
        _ = stats.computeTotalDiff()
        _ = stats.computeInflightTotalDiff()
    }
    _ = (try? TopicStatsTable(json: value))?.encoded()
    if let connection = try? ConsumerConnection(json: value) {
        _ = connection.encoded()
        _ = connection.computeMinVersion()
    }
    _ = (try? TopicList(json: value))?.encoded()
    _ = GetConsumeStatsRequestHeader(consumerGroup: "G", topicList: value["topicList"]?.stringValue).topics
}

/// SQL92 filter expressions (subscriptions come from peers): the payload as UTF-8 text, parsed, and when it parses
/// evaluated against a few property sets, as the broker would against each message.
func fuzzFilter(_ payload: UnsafeRawBufferPointer) {
    let text = String(decoding: payload, as: UTF8.self)
    guard let expression = try? SQL92Expression(parsing: text) else { return }
    _ = expression.matches([:])
    _ = expression.matches(["a": "1", "b": "x", "TAGS": "TagA"])
    _ = expression.matches(["a": "-2.5e3", "b": "NaN", "c": "true", "d": "9223372036854775808"])
    _ = expression.matches { name in name.count % 2 == 0 ? name : nil }
}

/// POP receipts and offset infos (the `POP_CK` property, `extraInfo` headers, a POP response's `startOffsetInfo` /
/// `msgOffsetInfo` / `orderCountInfo` come from peers): parsed, and a parsed receipt round-trips.
func fuzzExtraInfo(_ payload: UnsafeRawBufferPointer) {
    let text = String(decoding: payload, as: UTF8.self)
    if let receipt = try? PopReceipt(parsing: text) {
        guard (try? PopReceipt(parsing: receipt.text)) == receipt else { fatalError("pop receipt does not round-trip: \(text.debugDescription)") }
        _ = receipt.nextVisibleTime
        _ = AckMessageRequestHeader(consumerGroup: "G", topic: "T", receipt: receipt).fields
    }
    _ = try? PopOffsetInfo.startOffsets(text)
    _ = try? PopOffsetInfo.messageOffsets(text)
    _ = try? PopOffsetInfo.orderCounts(text)
    _ = try? BatchAckMessageRequestBody(bytes: UnsafeRawBufferPointer(payload))
}

/// Message trace bodies (trace-topic messages are written by any client): decoded; what decodes re-encodes to a
/// body that decodes to the same records (but for the client host, which Java never writes).
func fuzzTrace(_ payload: UnsafeRawBufferPointer) {
    guard let records = try? MessageTraceCodec.decode(payload) else { return }
    _ = MessageTraceCodec.keys(of: records)
    let written = records.map { r -> MessageTraceRecord in
        var r = r
        r.clientHost = ""
        return r
    }
    guard (try? MessageTraceCodec.decode(MessageTraceCodec.encode(written))) == written else {
        fatalError("trace records do not round-trip: \(String(decoding: payload, as: UTF8.self).debugDescription)")
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`; hand control to libFuzzer's driver from there.
@_cdecl("WireFuzz_main")
public func wireFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in LLVMFuzzerTestOneInput(data, size) }
}
#else
@main
struct WireFuzzMain {
    static func main() {
        let args = CommandLine.arguments
        let iterations = args.count > 1 ? Int(args[1]) ?? 20_000 : 20_000
        var rng = SplitMix64(seed: args.count > 2 ? UInt64(args[2]) ?? 1 : 1)
        let seeds = FuzzSeeds.all
        for i in 0..<iterations {
            var input = seeds[i % seeds.count]
            mutate(&input, using: &rng)
            input.withUnsafeBytes { fuzzOne($0) }
        }
        print("WireFuzz: \(iterations) inputs, no crash")
    }

    /// Flips, inserts, deletes and overwrites bytes, favouring length fields near the start.
    static func mutate(_ input: inout [UInt8], using rng: inout SplitMix64) {
        let rounds = Int(rng.next() % 8) + 1
        for _ in 0..<rounds {
            let op = rng.next() % 5
            let pos = input.isEmpty ? 0 : Int(rng.next() % UInt64(input.count))
            switch op {
            case 0 where !input.isEmpty: input[pos] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            case 1: input.insert(UInt8(truncatingIfNeeded: rng.next()), at: pos)
            case 2 where !input.isEmpty: input.remove(at: pos)
            case 3 where input.count > 8: input[1 + Int(rng.next() % 8)] = [0x00, 0x7F, 0xFF, 0x80][Int(rng.next() % 4)]
            default: input = Array(input.prefix(pos))
            }
        }
    }
}

/// A small deterministic PRNG so runs are reproducible from the seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
#endif
