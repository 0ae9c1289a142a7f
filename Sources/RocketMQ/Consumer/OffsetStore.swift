import Foundation
import RocketMQRemoting
import RocketMQWire
import Synchronization

/// Committed offsets of a consumer group: on the brokers (clustering) or in a local file (broadcasting).
///
/// Offsets only move forward in memory (`increaseOnly`), and never go negative. They reach their store every
/// `offsetCommitInterval`, when a queue is dropped, and at shutdown.
final class OffsetStore: Sendable {
    enum Kind: Sendable {
        case remote
        case local(path: URL)
    }

    let kind: Kind
    let group: String
    private let core: ClientCore
    private let table = Mutex<[MessageQueue: Int64]>([:])
    private let dirty = Mutex<Set<MessageQueue>>([])

    init(kind: Kind, group: String, core: ClientCore) {
        self.kind = kind
        self.group = group
        self.core = core
        if case .local(let path) = kind { loadLocal(path) }
    }

    /// Records a new committable offset (ignored unless it moves forward).
    func update(_ queue: MessageQueue, offset: Int64, increaseOnly: Bool = true) {
        guard offset >= 0 else { return }
        let changed = table.withLock { t -> Bool in
            // One hash for the common case (a new, higher offset); the rare lower one is put back.
            guard let old = t.updateValue(offset, forKey: queue) else { return true }
            if increaseOnly && old >= offset {
                t[queue] = old
                return false
            }
            return true
        }
        // Never nested with `dirty` (nor is it in `persist`): two locks taken in opposite orders deadlock.
        if changed { _ = dirty.withLock { $0.insert(queue) } }
    }

    func current(_ queue: MessageQueue) -> Int64? { table.withLock { $0[queue] } }

    func remove(_ queue: MessageQueue) {
        _ = table.withLock { $0.removeValue(forKey: queue) }
        _ = dirty.withLock { $0.remove(queue) }
    }

    /// The committed offset from the store: `.some(offset)`, `.none` when the group has none (QUERY_NOT_FOUND);
    /// throws when the store could not be asked.
    func read(_ queue: MessageQueue) async throws -> Int64? {
        switch kind {
        case .local:
            return table.withLock { $0[queue] }
        case .remote:
            guard let address = core.masterAddress(queue.brokerName) else {
                throw RocketMQError(.topicNotFound, "no master for \(queue.brokerName)", isRetryable: true)
            }
            let header = QueryConsumerOffsetRequestHeader(consumerGroup: group, topic: queue.topic, queueId: queue.queueId)
            var fields = header.fields
            fields["bname"] = queue.brokerName
            let response = try await core.invoke(
                .request(.queryConsumerOffset, extFields: fields), address: address, timeout: .seconds(5))
            switch response.responseCode {
            case .success:
                let offset = try QueryConsumerOffsetResponseHeader(fields: response.extFields ?? ExtFields()).offset
                table.withLock { $0[queue] = offset }
                return offset
            case .queryNotFound:
                return nil
            default:
                throw RocketMQError(.brokerError, response.remark ?? "query offset failed", responseCode: response.code, isRetryable: true)
            }
        }
    }

    /// Commits offsets that changed (oneway for periodic commits; `sync` at shutdown so none is lost).
    func persist(_ queues: [MessageQueue]? = nil, sync: Bool = false) async {
        // One lock at a time, as in update(): nesting them in opposite orders deadlocked (a soak crashed with
        // "Recursive call to lock Mutex", the kernel's verdict on that cycle). An update in between re-marks its
        // queue dirty, and the value read below is at least the one that was dirty.
        let targets: Set<MessageQueue> = dirty.withLock { d in
            let targets = queues.map { Set($0).intersection(d) } ?? d
            d.subtract(targets)
            return targets
        }
        let changed: [(MessageQueue, Int64)] = table.withLock { t in targets.compactMap { q in t[q].map { (q, $0) } } }
        guard !changed.isEmpty else { return }
        switch kind {
        case .local(let path):
            saveLocal(path)
        case .remote:
            await withTaskGroup(of: Void.self) { group in
                for (queue, offset) in changed {
                    group.addTask { await self.commitRemote(queue, offset: offset, sync: sync) }
                }
            }
        }
    }

    private func commitRemote(_ queue: MessageQueue, offset: Int64, sync: Bool) async {
        guard let address = core.masterAddress(queue.brokerName) else { return }
        var fields = UpdateConsumerOffsetRequestHeader(
            consumerGroup: group, topic: queue.topic, queueId: queue.queueId, commitOffset: offset
        ).fields
        fields["bname"] = queue.brokerName
        do {
            if sync {
                _ = try await core.invoke(.request(.updateConsumerOffset, extFields: fields), address: address, timeout: .seconds(5))
            } else {
                try await core.invokeOneway(.request(.updateConsumerOffset, extFields: fields, oneway: true), address: address, timeout: .seconds(5))
            }
        } catch {
            // Not committed: mark dirty again so the next round retries it.
            _ = dirty.withLock { $0.insert(queue) }
            core.logger.debug("offset commit failed", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
    }

    // MARK: local file (broadcasting)

    private func loadLocal(_ path: URL) {
        guard let data = try? Data(contentsOf: path), let json = try? JSONParser.parse(Array(data)),
            let entries = json["offsetTable"]?.arrayValue
        else { return }
        table.withLock { t in
            for e in entries {
                guard let topic = e["topic"]?.stringValue, let broker = e["brokerName"]?.stringValue,
                    let id = e["queueId"]?.int32Value, let offset = e["offset"]?.int64Value, offset >= 0
                else { continue }
                t[MessageQueue(topic: topic, brokerName: broker, queueId: id)] = offset
            }
        }
    }

    private func saveLocal(_ path: URL) {
        let snapshot = table.withLock { $0 }
        let entries = snapshot.sorted { $0.key < $1.key }.map { q, offset in
            JSONValue.object([
                "brokerName": .string(q.brokerName), "offset": .int(offset), "queueId": .int(q.queueId), "topic": .string(q.topic),
            ])
        }
        let bytes = JSONWriter.encode(.object(["offsetTable": .array(entries)]))
        let tmp = path.appendingPathExtension("tmp")
        do {
            try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: tmp)
            guard rename(tmp.path, path.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            core.logger.warning("cannot write local offsets", metadata: ["path": "\(path.path)", "error": "\(error)"])
        }
    }
}
