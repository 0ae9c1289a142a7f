import Foundation
import NIOCore
import RocketMQWire

/// What a pull found, mirroring Java's `GetMessageStatus`.
enum GetMessageStatus: String, Sendable {
    case found = "FOUND"
    case noMatchedMessage = "NO_MATCHED_MESSAGE"
    case noMessageInQueue = "NO_MESSAGE_IN_QUEUE"
    case offsetTooSmall = "OFFSET_TOO_SMALL"
    case offsetOverflowOne = "OFFSET_OVERFLOW_ONE"
    case offsetOverflowBadly = "OFFSET_OVERFLOW_BADLY"
}

/// Which stored messages a pull wants (Java's `ExpressionMessageFilter`).
enum PullFilter: Sendable {
    /// Every message (`*`).
    case all
    /// Messages whose tags hash code is in the set (a tag subscription).
    case tags(Set<Int32>)
    /// Messages whose properties satisfy the expression (an SQL92 subscription).
    case sql(SQL92Expression)

    /// Whether `entry` passes. The tag path looks at the tags code alone; SQL92 reads the properties from the
    /// stored bytes (a record whose properties cannot be located is evaluated without properties).
    func matches(_ entry: MessageStore.Entry) -> Bool {
        switch self {
        case .all:
            return true
        case .tags(let codes):
            return codes.contains(Int32(truncatingIfNeeded: entry.tagsCode))
        case .sql(let expression):
            guard let range = try? MessageRecord.propertiesRange(ofEncoded: entry.record) else {
                return expression.matches { _ in nil }
            }
            let base = entry.record.readerIndex
            return entry.record.withUnsafeReadableBytes { raw in
                let properties = UnsafeRawBufferPointer(rebasing: raw[(range.lowerBound - base)..<(range.upperBound - base)])
                return expression.matches { MessageProperties.value(forKey: $0, inUTF8: properties) }
            }
        }
    }
}

/// The answer of a store read.
struct GetMessageResult {
    var status: GetMessageStatus
    var records: [ByteBuffer] = []
    var nextBeginOffset: Int64
    var minOffset: Int64
    var maxOffset: Int64
}

/// One broker's messages: an in-memory commit log indexed by consume queues, optionally mirrored to an append-only
/// file so that messages survive a restart.
///
/// Not thread-safe: the owning broker serialises access.
final class MessageStore {
    struct Entry {
        var record: ByteBuffer
        var commitLogOffset: Int64
        var tagsCode: Int64
        var storeTimestamp: Int64
    }

    private(set) var queues: [QueueKey: [Entry]] = [:]
    private var byCommitLogOffset = CommitLogLocations()
    private(set) var nextCommitLogOffset: Int64 = 0
    /// Keys and unique keys of every indexed record (QUERY_MESSAGE).
    private(set) var messageIndex = MessageIndex()
    /// Messages stored per second, by topic (GET_TOPIC_STATS_INFO's `topicPutTps`); not kept across a restart.
    private(set) var putRates: [String: RateCounter] = [:]
    private var latestStoreTimestamp: Int64 = 0
    private let file: AppendOnlyFile?
    /// How many entries one pull scans at most looking for matches (Java: `maxFilterMessageSize`-like bound).
    static let maxScan = 16_000

    /// Opens (and replays) the store; `directory` nil keeps everything in memory.
    init(directory: URL?) throws {
        guard let directory else {
            file = nil
            return
        }
        let file = try AppendOnlyFile(url: directory.appendingPathComponent("commitlog"))
        self.file = file
        // Replay: every record carries its own topic, queue and offsets. Stop at the first torn/corrupt record and
        // cut the file there, so a crash mid-write never serves garbage.
        let data = try file.readAll()
        let whole = ByteBuffer(bytes: data)
        var buffer = whole
        var goodLength = 0
        while buffer.readableBytes > 0 {
            let start = buffer.readerIndex
            guard let record = try? MessageRecord.decode(from: &buffer) else { break }
            let encodedLength = buffer.readerIndex - start
            guard let slice = whole.getSlice(at: start, length: encodedLength),
                record.commitLogOffset == Int64(goodLength)
            else { break }
            let key = QueueKey(topic: record.topic, queueId: record.queueId)
            index(record: record, encoded: slice, key: key, position: queues[key]?.count ?? 0)
            goodLength += encodedLength
        }
        if goodLength < data.count {
            try file.truncate(to: goodLength)
        }
        nextCommitLogOffset = Int64(goodLength)
    }

    /// Files `record` as entry `position` of its queue, `key`.
    private func index(record: MessageRecord, encoded: ByteBuffer, key: QueueKey, position: Int) {
        let entry = Entry(
            record: encoded, commitLogOffset: record.commitLogOffset,
            tagsCode: Self.tagsCode(record.properties[MessageProperty.tags]), storeTimestamp: record.storeTimestamp)
        byCommitLogOffset.append(.init(offset: record.commitLogOffset, key: key, index: position))
        messageIndex.add(record)
        // Appended in place: copying the queue out and back would copy every entry on every message (O(n) each).
        queues[key, default: []].append(entry)
    }

    /// Java's `tagsString2tagsCode`: the tag's `String.hashCode`, 0 without a tag.
    static func tagsCode(_ tags: String?) -> Int64 {
        guard let tags, !tags.isEmpty else { return 0 }
        return Int64(JavaCompat.stringHashCode(tags))
    }

    /// Assigns the queue offset, commit-log offset and store time, encodes and stores `record`.
    func append(_ record: inout MessageRecord, storeTimestamp: Int64) throws -> ByteBuffer {
        let key = QueueKey(topic: record.topic, queueId: record.queueId)
        record.queueOffset = Int64(queues[key]?.count ?? 0)
        record.commitLogOffset = nextCommitLogOffset
        record.storeTimestamp = storeTimestamp
        let buffer = try record.encoded()  // one buffer of the record's exact size
        try file?.append(buffer.readableBytesView)
        nextCommitLogOffset += Int64(buffer.readableBytes)
        index(record: record, encoded: buffer, key: key, position: Int(record.queueOffset))
        // Counted at the latest store time seen (a committed half message keeps its older store time).
        latestStoreTimestamp = max(latestStoreTimestamp, storeTimestamp)
        putRates[record.topic, default: RateCounter()].add(1, nowMillis: latestStoreTimestamp)
        return buffer
    }

    func maxOffset(_ key: QueueKey) -> Int64 { Int64(queues[key]?.count ?? 0) }
    func minOffset(_ key: QueueKey) -> Int64 { 0 }

    /// Reads up to `maxCount` messages (at most `maxBytes`, at least one) from `offset` that pass `filter`.
    func get(
        _ key: QueueKey, offset: Int64, maxCount: Int, maxBytes: Int, filter: PullFilter
    ) -> GetMessageResult {
        let entries = queues[key] ?? []
        let max = Int64(entries.count)
        if max == 0 {
            return GetMessageResult(
                status: .noMessageInQueue, nextBeginOffset: 0, minOffset: 0, maxOffset: 0)
        }
        if offset < 0 {
            return GetMessageResult(status: .offsetTooSmall, nextBeginOffset: 0, minOffset: 0, maxOffset: max)
        }
        if offset == max {
            return GetMessageResult(status: .offsetOverflowOne, nextBeginOffset: offset, minOffset: 0, maxOffset: max)
        }
        if offset > max {
            return GetMessageResult(status: .offsetOverflowBadly, nextBeginOffset: max, minOffset: 0, maxOffset: max)
        }
        var result = GetMessageResult(status: .noMatchedMessage, nextBeginOffset: offset, minOffset: 0, maxOffset: max)
        var bytes = 0
        var index = Int(offset)
        let scanEnd = min(entries.count, index + Self.maxScan)
        while index < scanEnd {
            let entry = entries[index]
            if filter.matches(entry) {
                if !result.records.isEmpty && bytes + entry.record.readableBytes > maxBytes { break }
                result.records.append(entry.record)
                bytes += entry.record.readableBytes
            }
            index += 1
            if result.records.count >= maxCount { break }
        }
        result.nextBeginOffset = Int64(index)
        if !result.records.isEmpty { result.status = .found }
        return result
    }

    /// The stored record at a commit-log offset (what CONSUMER_SEND_MSG_BACK refers to).
    func record(atCommitLogOffset offset: Int64) -> MessageRecord? {
        guard let location = byCommitLogOffset[offset], let entries = queues[location.key],
            location.index < entries.count
        else { return nil }
        var buffer = entries[location.index].record
        return try? MessageRecord.decode(from: &buffer)
    }

    /// The stored bytes of the record at a commit-log offset (VIEW_MESSAGE_BY_ID); nil unless a record starts there.
    func encodedRecord(atCommitLogOffset offset: Int64) -> ByteBuffer? {
        guard let location = byCommitLogOffset[offset], let entries = queues[location.key],
            location.index < entries.count
        else { return nil }
        return entries[location.index].record
    }

    /// Java's `getMessageStoreTimeStamp`: the store time of the message at a queue offset, nil when there is none.
    func storeTimestamp(_ key: QueueKey, offset: Int64) -> Int64? {
        guard let entries = queues[key], offset >= 0, offset < Int64(entries.count) else { return nil }
        return entries[Int(offset)].storeTimestamp
    }

    /// The first queue offset whose store time is `>= timestamp` (LOWER) or the last `<= timestamp` (UPPER).
    func searchOffset(_ key: QueueKey, timestamp: Int64, upper: Bool) -> Int64 {
        let entries = queues[key] ?? []
        if upper {
            var answer: Int64 = 0
            for (i, e) in entries.enumerated() where e.storeTimestamp <= timestamp { answer = Int64(i) }
            return answer
        }
        // Store times are non-decreasing per queue: binary search.
        var lo = 0
        var hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if entries[mid].storeTimestamp < timestamp { lo = mid + 1 } else { hi = mid }
        }
        return Int64(lo)
    }

    func earliestStoreTime(_ key: QueueKey) -> Int64 { queues[key]?.first?.storeTimestamp ?? -1 }

    /// Releases the file (the in-memory index stays readable).
    func close() { file?.close() }
}

/// A file only ever appended to (or truncated after a torn tail), written with plain POSIX calls.
///
/// Writes reach the page cache before the broker answers, so a killed process loses nothing it acknowledged.
final class AppendOnlyFile {
    private var fd: Int32

    init(url: URL) throws {
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        fd = open(url.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MockBrokerError("cannot open \(url.path): errno \(errno)") }
    }

    func readAll() throws -> [UInt8] {
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0 else { throw MockBrokerError("cannot seek: errno \(errno)") }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { p in
                pread(fd, p.baseAddress! + done, p.count - done, off_t(done))
            }
            guard n > 0 else { throw MockBrokerError("cannot read: errno \(errno)") }
            done += n
        }
        return bytes
    }

    func append<Bytes: Collection>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        try bytes.withContiguousStorageIfAvailable { try write(UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { try write($0) }
    }

    private func write(_ raw: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw MockBrokerError("cannot write: errno \(errno)") }
            done += n
        }
    }

    func truncate(to length: Int) throws {
        guard ftruncate(fd, off_t(length)) == 0 else { throw MockBrokerError("cannot truncate: errno \(errno)") }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}

/// An error of the mock broker itself (bad configuration, I/O).
public struct MockBrokerError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Where each stored record sits, by commit-log offset. Records are stored in offset order, so a sorted list searched
/// by halves serves, in chunks of fixed size: nothing is rehashed or copied whole as the store grows into millions of
/// records (the hash table this replaces stalled the broker for seconds when it grew).
struct CommitLogLocations {
    struct Location {
        var offset: Int64
        var key: QueueKey
        var index: Int
    }

    private var chunks: [[Location]] = []
    private static let chunkSize = 1 << 14

    /// Adds the location of the record at `location.offset`, after those of lower offsets.
    mutating func append(_ location: Location) {
        if let last = chunks.last?.last, last.offset >= location.offset {
            insertOutOfOrder(location)
            return
        }
        if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize {
            var chunk: [Location] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(location)
    }

    /// The queue and position of the record stored at `offset`, nil unless one starts there.
    subscript(offset: Int64) -> (key: QueueKey, index: Int)? {
        // The last chunk starting at or before `offset`, then the entry in it.
        var lo = 0
        var hi = chunks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if chunks[mid][0].offset <= offset { lo = mid + 1 } else { hi = mid }
        }
        guard lo > 0 else { return nil }
        let chunk = chunks[lo - 1]
        guard let i = Self.position(of: offset, in: chunk), chunk[i].offset == offset else { return nil }
        return (chunk[i].key, chunk[i].index)
    }

    /// The first index in `chunk` whose offset is at least `offset`, nil when there is none.
    private static func position(of offset: Int64, in chunk: [Location]) -> Int? {
        var lo = 0
        var hi = chunk.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if chunk[mid].offset < offset { lo = mid + 1 } else { hi = mid }
        }
        return lo < chunk.count ? lo : nil
    }

    /// Keeps the list sorted should a record ever arrive below the last offset (the store never does this: kept
    /// correct rather than assumed). Replaces a location with the same offset.
    private mutating func insertOutOfOrder(_ location: Location) {
        let c = chunks.firstIndex { $0.last.map { $0.offset >= location.offset } ?? false } ?? chunks.count - 1
        let i = Self.position(of: location.offset, in: chunks[c]) ?? chunks[c].count
        if i < chunks[c].count, chunks[c][i].offset == location.offset {
            chunks[c][i] = location
        } else {
            chunks[c].insert(location, at: i)
        }
    }
}
