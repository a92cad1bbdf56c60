import Foundation
import Testing
@testable import Telemetry

/// The User-Agent classifier against a table of real User-Agent strings, `user-agents.tsv` beside this file.
@Suite struct UserAgentTests {
    /// One row of the table: a User-Agent and what it classifies as.
    struct Row: Sendable, CustomTestStringConvertible {
        let userAgent: String
        let expected: UserAgent

        var testDescription: String { userAgent }
    }

    /// A line of the table that does not have its six tab-separated cells.
    struct MalformedRow: Error, CustomStringConvertible {
        let line: String

        var description: String { "not six tab-separated cells: \(line)" }
    }

    /// The table's rows, in file order; `#` lines are comments and an empty cell is nil.
    static func rows() throws -> [Row] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("user-agents.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.isEmpty ? nil : String($0) }
            guard cells.count == 6, let userAgent = cells[0] else { throw MalformedRow(line: String(line)) }
            let expected = UserAgent(browser: cells[1], browserVersion: cells[2], os: cells[3], osVersion: cells[4], device: cells[5])
            return Row(userAgent: userAgent, expected: expected)
        }
    }

    @Test(arguments: try rows())
    func classifiesAsTheTableSays(_ row: Row) {
        #expect(UserAgent(row.userAgent) == row.expected)
    }

    @Test func theTableHasAtLeast200RowsAndNoDuplicates() throws {
        let userAgents = try Self.rows().map(\.userAgent)
        #expect(userAgents.count >= 200)
        let duplicates = Dictionary(grouping: userAgents, by: { $0 }).filter { $0.value.count > 1 }.keys
        #expect(duplicates.isEmpty, "\(duplicates.sorted())")
    }

    @Test func anEmptyHeaderClassifiesAsNothing() {
        #expect(UserAgent("") == UserAgent())
    }

    @Test func aSubstringClassifiesLikeTheString() {
        let header = "ua: Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
        let value = header.dropFirst(4)
        #expect(UserAgent(value) == UserAgent(String(value)))
        #expect(UserAgent(value).browser == "Chrome")
    }
}
