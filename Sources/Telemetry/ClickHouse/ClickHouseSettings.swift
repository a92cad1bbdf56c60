/// Where the keyed API takes its answers from (docs/clickhouse.md).
public enum QuerySource: String, Sendable, Equatable {
    /// This daemon's day index and event table.
    case index
    /// The ClickHouse table every instance ships to.
    case clickhouse
}

/// The settings of the ClickHouse sink and query source; `TelemetryConfiguration.settings` defines each one.
public struct ClickHouseSettings: Sendable, Equatable {
    /// `--clickhouse-url`; nil: no sink, no ClickHouse answers.
    public var url: String?
    public var database = ""
    public var table = ""
    public var user = ""
    /// Read from `--clickhouse-password-file`; never logged.
    public var password = ""
    public var querySource = QuerySource.index
    /// How many days past raw retention an unshipped segment is kept for the sink.
    public var lagLimitDays = 0

    public init() {}

    /// `database.table`, as the statements name it.
    var qualifiedTable: String { "\(database).\(table)" }

    /// `[A-Za-z_][A-Za-z0-9_]*`: safe to write into a statement unquoted.
    static func isIdentifier(_ v: String) -> Bool {
        guard let first = v.utf8.first, first == UInt8(ascii: "_") || (first | 0x20 >= UInt8(ascii: "a") && first | 0x20 <= UInt8(ascii: "z")) else { return false }
        return v.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z"))
        } && v.utf8.count <= 64
    }
}
