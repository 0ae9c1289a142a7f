import Foundation
import Synchronization

/// Seconds since the suite started, for timestamps on progress lines.
let suiteStart = ContinuousClock.now

/// Prints a timestamped progress line to stdout.
func say(_ text: String) {
    let t = ContinuousClock.now - suiteStart
    FileHandle.standardOutput.write(Data((String(format: "[%6.1fs] ", t.seconds) + text + "\n").utf8))
}

extension Duration {
    /// The duration in (fractional) seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    /// The duration in (fractional) milliseconds.
    var milliseconds: Double { seconds * 1000 }
    /// The duration in whole nanoseconds.
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }

    init(seconds: Double) { self = .nanoseconds(Int64(seconds * 1e9)) }
}

/// A scenario's figures and goals: printed as a table, then one machine-readable line
/// `RESULT scenario=NAME key=value ... pass=true|false`.
struct Figures {
    let scenario: String
    private(set) var values: [(key: String, value: String)] = []
    private(set) var goals: [(name: String, met: Bool, detail: String)] = []

    init(_ scenario: String) { self.scenario = scenario }

    mutating func set(_ key: String, _ value: Int) { values.append((key, String(value))) }
    mutating func set(_ key: String, _ value: Double, digits: Int = 1) {
        values.append((key, String(format: "%.\(digits)f", value)))
    }
    mutating func set(_ key: String, _ value: String) { values.append((key, value.replacingOccurrences(of: " ", with: "_"))) }
    mutating func set(_ key: String, ms value: Duration?) {
        values.append((key, value.map { String(format: "%.1f", $0.milliseconds) } ?? "none"))
    }

    /// Records a goal; the scenario passes only if every goal is met.
    mutating func goal(_ name: String, _ met: Bool, _ detail: String) {
        goals.append((name, met, detail))
    }

    var passed: Bool { goals.allSatisfy(\.met) }

    /// Prints the table and the RESULT line; returns whether every goal was met.
    @discardableResult
    func print() -> Bool {
        var out = "\nfigures (\(scenario))\n"
        let width = max(24, (values.map(\.key.count).max() ?? 0) + 2)
        for (k, v) in values { out += "  " + k.padding(toLength: width, withPad: " ", startingAt: 0) + v + "\n" }
        out += "goals\n"
        for g in goals { out += "  [\(g.met ? "met" : "MISSED")] \(g.name): \(g.detail)\n" }
        out += "RESULT scenario=\(scenario)"
        for (k, v) in values { out += " \(k)=\(v)" }
        out += " pass=\(passed)\n"
        FileHandle.standardOutput.write(Data(out.utf8))
        return passed
    }
}

/// Latencies in log-spaced buckets (3 % wide from 20 µs): percentiles within 3 %, the maximum exact, fixed memory.
struct Histogram: Sendable {
    private static let base = 20_000.0  // ns
    private static let ratio = 1.03
    private static let bucketCount = 640
    private static let logRatio = log(ratio)

    private var counts = [Int](repeating: 0, count: Histogram.bucketCount)
    private(set) var count = 0
    private(set) var maxNanos: Int64 = 0

    mutating func record(_ d: Duration) {
        let ns = Swift.max(d.nanoseconds, 0)
        count += 1
        maxNanos = Swift.max(maxNanos, ns)
        counts[Self.bucket(ns)] += 1
    }

    private static func bucket(_ ns: Int64) -> Int {
        guard Double(ns) > base else { return 0 }
        return Swift.min(bucketCount - 1, Int(log(Double(ns) / base) / logRatio) + 1)
    }

    /// The upper bound of the bucket holding the `p`-quantile (`p` in 0...1), capped at the maximum.
    func quantile(_ p: Double) -> Duration? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, Int((p * Double(count)).rounded(.up)))
        var seen = 0
        for (i, c) in counts.enumerated() {
            seen += c
            if seen >= rank {
                let upper = Self.base * pow(Self.ratio, Double(i))
                return .nanoseconds(Swift.min(Int64(upper), maxNanos))
            }
        }
        return max
    }

    var max: Duration? { count > 0 ? .nanoseconds(maxNanos) : nil }
}

/// A set of sequence numbers as a growable bitmap (1 bit per message: a 10-minute soak costs kilobytes, not the
/// megabytes a set of message ids would add to the resident memory being measured).
struct Bitmap: Sendable {
    private var words: [UInt64] = []
    private(set) var count = 0

    /// Inserts `n`; returns false when it was already there.
    @discardableResult
    mutating func insert(_ n: Int) -> Bool {
        let w = n >> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: Swift.max(w + 1 - words.count, words.count))) }
        let bit = UInt64(1) << UInt64(n & 63)
        if words[w] & bit != 0 { return false }
        words[w] |= bit
        count += 1
        return true
    }

    func contains(_ n: Int) -> Bool {
        let w = n >> 6
        return w < words.count && words[w] & (UInt64(1) << UInt64(n & 63)) != 0
    }

    /// Members of `self` not in `other`.
    func subtractingCount(_ other: Bitmap) -> Int {
        var missing = 0
        for (i, word) in words.enumerated() {
            let theirs = i < other.words.count ? other.words[i] : 0
            missing += (word & ~theirs).nonzeroBitCount
        }
        return missing
    }

    /// Members of both.
    func intersectionCount(_ other: Bitmap) -> Int {
        var both = 0
        for i in 0..<Swift.min(words.count, other.words.count) { both += (words[i] & other.words[i]).nonzeroBitCount }
        return both
    }

    /// The first few members of `self` not in `other` (for reports).
    func firstMissing(from other: Bitmap, limit: Int) -> [Int] {
        var out: [Int] = []
        for (i, word) in words.enumerated() {
            var bits = word & ~(i < other.words.count ? other.words[i] : 0)
            while bits != 0 && out.count < limit {
                let b = bits.trailingZeroBitCount
                out.append(i * 64 + b)
                bits &= bits - 1
            }
            if out.count >= limit { break }
        }
        return out
    }
}

/// What /proc says about this process.
enum ProcessStats {
    /// Open file descriptors (entries of /proc/self/fd, minus the one used to list them).
    static var openFDs: Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return max(0, entries.count - 1)
    }

    /// Threads of this process (entries of /proc/self/task).
    static var threads: Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).count
    }

    /// Resident memory in bytes (/proc/self/statm, second field, times the page size).
    static var residentBytes: Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func mib(_ bytes: Int) -> Double { Double(bytes) / 1_048_576 }
}

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held.
func waitUntil(
    timeout: Duration, interval: Duration = .milliseconds(20), _ condition: () async -> Bool
) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return await condition()
}

/// Sleeps, ignoring cancellation (the suite's top-level tasks are not cancelled).
func pause(_ d: Duration) async {
    try? await Task.sleep(for: d)
}
