import RocketMQWire

/// The store's key index (Java's `IndexService`), in memory: for each `topic#key` the stored messages carrying that
/// key, oldest first. Fed by every record the store indexes, appended or replayed, so it is rebuilt with the store on
/// start.
///
/// What is indexed, as Java's `buildIndex`: the `UNIQ_KEY` property and each non-empty part of `KEYS` split on spaces
/// (`MessageConst.KEY_SEPARATOR`), under the topic the record is stored in; rolled-back transactional records are
/// not. Both kinds share one key space, so a key query also finds a message whose unique key is that text (Java's
/// does too). Differences from Java's index files: store times are compared exactly (Java keeps them to the second
/// from the file's start), keys are compared exactly (Java by hash, leaving collisions to the client), and a message
/// listing a key twice is found once.
///
/// Not thread-safe: the owning store's broker serialises access.
struct MessageIndex {
    struct Hit {
        var commitLogOffset: Int64
        var storeTimestamp: Int64
    }

    /// Java's `maxMsgsNumBatch`: the most offsets one query returns, whatever `maxNum` asks.
    static let maxMsgsNumBatch = 64
    /// Java's `defaultQueryMaxNum`: the `maxNum` a unique-key query runs with.
    static let defaultQueryMaxNum: Int32 = 32

    /// The records of one key; most keys (every unique key) have one, kept without an array.
    private enum Hits {
        case one(Hit)
        case many([Hit])

        var all: [Hit] {
            switch self {
            case .one(let hit): return [hit]
            case .many(let hits): return hits
            }
        }
    }

    /// A `topic#key` text with its hash computed once. Keys are spread over ``shardCount`` tables by that hash, so a
    /// table that grows rehashes a fraction of the keys (one table of millions stalled the broker for seconds), and
    /// rehashing reads the stored hash instead of hashing the text again.
    private struct Key: Hashable {
        let text: String
        let hash: Int

        init(_ text: String) {
            self.text = text
            hash = text.hashValue
        }

        func hash(into hasher: inout Hasher) { hasher.combine(hash) }
        static func == (a: Key, b: Key) -> Bool { a.hash == b.hash && a.text == b.text }
    }

    private static let shardCount = 64
    private var shards = [[Key: Hits]](repeating: [:], count: shardCount)
    /// Store time of the last indexed record (Java: the newest index file's `endTimestamp`).
    private(set) var lastUpdateTimestamp: Int64 = 0
    /// Commit-log offset of the last indexed record (Java: the newest index file's `endPhyOffset`).
    private(set) var lastUpdatePhyOffset: Int64 = 0

    /// Java's `buildKey`: topic and key joined by `#`.
    static func key(topic: String, _ key: String) -> String { topic + "#" + key }

    /// Indexes a stored record.
    mutating func add(_ record: MessageRecord) {
        guard record.sysFlag & MessageSysFlag.transactionMask != MessageSysFlag.transactionRollbackType else { return }
        let hit = Hit(commitLogOffset: record.commitLogOffset, storeTimestamp: record.storeTimestamp)
        // The unique key, then each distinct key of KEYS (no list made for a message with no KEYS).
        let unique = record.uniqueKey
        let keys = record.keys
        var added = false
        if let unique {
            add(hit, Self.key(topic: record.topic, unique))
            added = true
        }
        for (i, key) in keys.enumerated() where key != unique && !keys[..<i].contains(key) {
            add(hit, Self.key(topic: record.topic, key))
            added = true
        }
        guard added else { return }
        lastUpdateTimestamp = record.storeTimestamp
        lastUpdatePhyOffset = record.commitLogOffset
    }

    private mutating func add(_ hit: Hit, _ text: String) {
        let key = Key(text)
        let shard = key.hash & (Self.shardCount - 1)
        switch shards[shard][key] {
        case nil: shards[shard][key] = .one(hit)
        case .one(let first)?: shards[shard][key] = .many([first, hit])
        case .many(var list)?:
            shards[shard][key] = nil  // keeps the array uniquely referenced, so the append does not copy it
            list.append(hit)
            shards[shard][key] = .many(list)
        }
    }

    /// The commit-log offsets of the newest records of `topic` with `key` stored within `begin...end` (ms, both
    /// inclusive), at most `maxNum` (capped at ``maxMsgsNumBatch``), in commit-log order. Like Java's walk of an
    /// index slot from the newest entry back, it stops at the first record stored before `begin`.
    func query(topic: String, key: String, maxNum: Int, begin: Int64, end: Int64) -> [Int64] {
        let limit = min(maxNum, Self.maxMsgsNumBatch)
        let key = Key(Self.key(topic: topic, key))
        guard limit > 0, let list = shards[key.hash & (Self.shardCount - 1)][key]?.all else { return [] }
        var found: [Int64] = []
        for hit in list.reversed() {
            if found.count >= limit { break }
            if hit.storeTimestamp >= begin && hit.storeTimestamp <= end { found.append(hit.commitLogOffset) }
            if hit.storeTimestamp < begin { break }
        }
        return found.sorted()
    }
}

/// Messages per second over the last minute, in one-second buckets (what Java's `BrokerStatsManager` reports as
/// `tpsTopicPutNums` / `tpsGroupGetNums`, from 10-second snapshots of the last minute).
struct RateCounter {
    private var seconds = [Int64](repeating: .min, count: 60)
    private var counts = [Int64](repeating: 0, count: 60)

    /// Counts `n` events at `nowMillis`.
    mutating func add(_ n: Int, nowMillis: Int64) {
        let second = nowMillis / 1000
        let slot = Int(((second % 60) + 60) % 60)
        if seconds[slot] != second {
            seconds[slot] = second
            counts[slot] = 0
        }
        counts[slot] &+= Int64(n)
    }

    /// Events per second over the minute up to `nowMillis`.
    func perSecond(nowMillis: Int64) -> Double {
        let second = nowMillis / 1000
        var total: Int64 = 0
        for slot in 0..<60 where seconds[slot] > second - 60 && seconds[slot] <= second { total &+= counts[slot] }
        return Double(total) / 60
    }
}
