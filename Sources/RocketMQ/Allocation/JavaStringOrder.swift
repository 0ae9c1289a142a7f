/// Java's `String.compareTo` and `String.equals`, which RocketMQ's rebalance relies on.
///
/// Java orders strings by their UTF-16 code units, and compares them unit for unit. Swift's `String` `<` and `==`
/// work on Unicode canonical equivalence instead, so they can disagree with Java: a character in U+E000–U+FFFF sorts
/// *after* any supplementary character (an emoji, say) in Java, and `"é"` precomposed differs from `"e\u{301}"`.
/// Every Java client in a consumer group sorts the same lists the same way, so a Swift member must too.
public enum JavaStringOrder {
    /// Java's `a.compareTo(b)`, reduced to its sign: negative, zero or positive.
    ///
    /// Works on the UTF-8 bytes without allocating: UTF-8 byte order equals scalar order, which equals UTF-16 order
    /// except between a scalar in U+E000–U+FFFF (lead byte `EE`/`EF`) and a supplementary scalar (lead byte
    /// `F0`–`F4`, a surrogate pair `D800`–`DFFF` in UTF-16), where the order flips.
    public static func compare(_ a: String, _ b: String) -> Int {
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            switch (ia.next(), ib.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?):
                if x == y { continue }
                // The bytes before were equal, so x and y are both lead bytes or both continuation bytes.
                let xBMPHigh = x == 0xEE || x == 0xEF
                let yBMPHigh = y == 0xEE || y == 0xEF
                if xBMPHigh && y >= 0xF0 { return 1 }
                if yBMPHigh && x >= 0xF0 { return -1 }
                return x < y ? -1 : 1
            }
        }
    }

    /// Whether `a` sorts before `b` in Java `String.compareTo` order.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        compare(a, b) < 0
    }

    /// Java's `a.equals(b)`: the same sequence of code units (not merely canonically equivalent).
    public static func equals<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
        a.utf8.elementsEqual(b.utf8)
    }

    /// Java's `a.equals(b)` for two `String`s: the same UTF-8 bytes, compared in place (queues are dictionary keys on
    /// every consumed message's path).
    public static func equals(_ a: String, _ b: String) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        let same = x.withContiguousStorageIfAvailable { p in
            y.withContiguousStorageIfAvailable { q in
                for i in 0..<p.count where p[i] != q[i] { return false }
                return true
            }
        }
        if case .some(.some(let result)) = same { return result }
        return x.elementsEqual(y)
    }

    /// `strings` sorted the way Java's `Collections.sort` sorts a `List<String>` (stable, `String.compareTo`), as
    /// `RebalanceImpl` sorts the consumer ids of a group before allocating.
    public static func sorted<S: Sequence>(_ strings: S) -> [String] where S.Element == String {
        // Swift's sort is stable, like Java's TimSort; equal keys are identical strings anyway.
        strings.sorted(by: precedes)
    }

    /// The index of the first element Java-equal to `element` (Java `List.indexOf`).
    static func firstIndex(of element: String, in list: [String]) -> Int? {
        list.firstIndex { equals($0, element) }
    }
}
