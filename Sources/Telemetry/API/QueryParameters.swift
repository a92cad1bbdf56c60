import Foundation
import Hummingbird

/// Reads and validates the query parameters of the keyed endpoints; a bad one is a 400 with its reason.
struct QueryParameters {
    let request: Request
    let today: CivilDate

    init(request: Request, now: Int64) {
        self.request = request
        self.today = CivilDate(epochMilliseconds: now)
    }

    /// `days` (1–365, default 30) ending with `end`.
    func window() throws -> (end: CivilDate, days: Int) {
        (try end(), try integer("days", default: 30, 1...365))
    }

    func integer(_ name: String, default value: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters[Substring(name)] else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw APIError(.badRequest, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// The `filter=` parameters (docs/dimensions.md); a malformed one is a 400.
    func filter() throws -> EventFilter {
        do {
            return try EventFilter(all("filter"))
        } catch {
            throw APIError(.badRequest, error.description)
        }
    }

    /// Every value of a repeatable parameter, read from the raw query: percent-decoded, `+` as a space.
    func all(_ name: String) -> [String] {
        guard let query = request.uri.query else { return [] }
        return query.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard Self.decode(parts[0]) == name else { return nil }
            return parts.count == 2 ? Self.decode(parts[1]) : ""
        }
    }

    static func decode(_ s: Substring) -> String {
        let plus = s.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }

    /// `end` as YYYY-MM-DD, not after today; today when absent.
    func end() throws -> CivilDate {
        guard let text = request.uri.queryParameters["end"] else { return today }
        guard let date = CivilDate(iso: text) else { throw APIError(.badRequest, "end must be a date YYYY-MM-DD") }
        guard date <= today else { throw APIError(.badRequest, "end may not be later than today (\(today))") }
        return date
    }
}

extension Parameters {
    /// A path parameter, percent-decoded (`/users/user%2042/events` names `user 42`).
    func decoded(_ name: String) throws -> String {
        let raw = try require(name)
        guard let text = raw.removingPercentEncoding else {
            throw APIError(.badRequest, "\(name) is not valid percent-encoded UTF-8")
        }
        return text
    }
}
