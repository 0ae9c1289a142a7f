import ArgumentParser
import Foundation
import RocketMQ
import RocketMQWire

/// How an operator command prints its rows: an aligned table for people, or JSON Lines for programs.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON Lines (one object per row) instead of a table.") var json = false
}

/// Collects rows and prints them as an aligned table (or one JSON object per row).
struct OperatorTable {
    let columns: [String]
    private var rows: [[String]] = []
    private var objects: [JSONValue] = []

    init(_ columns: [String]) { self.columns = columns }

    /// Adds a row: `cells` for the table (in column order), `json` for JSON Lines.
    mutating func add(_ cells: [String], json: [(String, JSONValue)]) {
        rows.append(cells)
        objects.append(.object(json.map { JSONValue.Member(key: .string($0.0), value: $0.1) }))
    }

    func print(json: Bool) {
        if json {
            for object in objects { Swift.print(String(decoding: JSONWriter.encode(object), as: UTF8.self)) }
            return
        }
        var widths = columns.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        Swift.print(line(columns))
        for row in rows { Swift.print(line(row)) }
    }
}

extension JSONValue {
    static func int(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }
    static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
}

/// Milliseconds since 1970 as `2026-12-04 13:42:45.123` (UTC), or `-` for 0.
func timeText(_ millis: Int64) -> String {
    guard millis > 0 else { return "-" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
    return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
}

/// Runs `body` with an admin client for `cluster`, always shutting it down.
func withAdmin<T>(_ cluster: ClusterOptions, _ body: (Admin) async throws -> T) async throws -> T {
    cluster.bootstrapLogging()
    let admin = try Admin(client: cluster.clientConfiguration())
    do {
        let result = try await body(admin)
        await admin.shutdown()
        return result
    } catch {
        await admin.shutdown()
        throw error
    }
}
