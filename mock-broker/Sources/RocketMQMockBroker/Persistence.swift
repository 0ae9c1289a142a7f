import Foundation
import RocketMQWire

/// Topics and consumer offsets of a broker with a data directory, as small JSON files replaced atomically.
struct PersistedState {
    var topics: [String: TopicConfig] = [:]
    var offsets: [String: [Int32: Int64]] = [:]

    static func load(from directory: URL) throws -> PersistedState {
        var state = PersistedState()
        let topicsURL = directory.appendingPathComponent("topics.json")
        if let data = try? Data(contentsOf: topicsURL), let json = try? JSONParser.parse(Array(data)),
            let members = json["topicConfigTable"]?.objectMembers
        {
            for m in members {
                guard let name = m.key.stringValue, let read = m.value["readQueueNums"]?.int32Value,
                    let write = m.value["writeQueueNums"]?.int32Value, let perm = m.value["perm"]?.int32Value
                else { continue }
                var t = TopicConfig(name: name, queues: write, perm: .init(rawValue: perm))
                t.readQueueNums = read
                state.topics[name] = t
            }
        }
        let offsetsURL = directory.appendingPathComponent("consumerOffset.json")
        if let data = try? Data(contentsOf: offsetsURL), let json = try? JSONParser.parse(Array(data)),
            let members = json["offsetTable"]?.objectMembers
        {
            for m in members {
                guard let key = m.key.stringValue, let queues = m.value.objectMembers else { continue }
                var table: [Int32: Int64] = [:]
                for q in queues {
                    guard let id = q.key.scalarText.flatMap({ Int32($0) }), let offset = q.value.int64Value else { continue }
                    table[id] = offset
                }
                state.offsets[key] = table
            }
        }
        return state
    }

    /// Writes `bytes` to `url` through a temporary file and a rename, so a crash never leaves half a file.
    static func writeAtomically(_ bytes: [UInt8], to url: URL) {
        let tmp = url.appendingPathExtension("tmp")
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else { return }
        } catch {
            // Best effort: the next flush tries again.
        }
    }
}

extension MockBroker {
    var dataDirectory: URL? { configuration.dataDirectory?.appendingPathComponent(configuration.name) }

    /// Flushes consumer offsets if they changed (every second and at stop), in Java's `consumerOffset.json` shape.
    func persistIfDirty() {
        persistPopCheckpoints()
        guard let dir = dataDirectory else {
            state.withLock { $0.offsetsDirty = false }
            return
        }
        let snapshot = state.withLock { s -> [String: [Int32: Int64]]? in
            guard s.offsetsDirty else { return nil }
            s.offsetsDirty = false
            return s.offsets
        }
        guard let snapshot else { return }
        let table = JSONValue.object(orderedPairs: snapshot.sorted { $0.key < $1.key }.map { key, queues in
            (key, JSONValue.object(queues.sorted { $0.key < $1.key }.map {
                JSONValue.Member(key: .number(String($0.key)), value: .int($0.value))
            }))
        })
        PersistedState.writeAtomically(
            JSONWriter.encode(.object(["offsetTable": table])), to: dir.appendingPathComponent("consumerOffset.json"))
    }

    /// Writes the topic table (`topics.json`).
    func persistTopics(_ snapshot: [String: TopicConfig]? = nil) {
        guard let dir = dataDirectory else { return }
        let topics = snapshot ?? state.withLock { $0.topics }
        let table = JSONValue.object(orderedPairs: topics.sorted { $0.key < $1.key }.map { name, t in
            (name, JSONValue.object([
                "perm": .int(t.perm.rawValue), "readQueueNums": .int(t.readQueueNums),
                "topicName": .string(name), "writeQueueNums": .int(t.writeQueueNums),
            ]))
        })
        PersistedState.writeAtomically(
            JSONWriter.encode(.object(["topicConfigTable": table])), to: dir.appendingPathComponent("topics.json"))
    }
}
