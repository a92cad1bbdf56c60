import Foundation
@testable import Telemetry

/// The metric definitions of docs/api.md written the slow, obvious way over stored lines.
struct ReferenceModel {
    struct Event {
        var date: CivilDate
        var type: String
        var user: String?
        var feature: String?
    }

    var events: [Event] = []

    mutating func add(storedLines lines: [String]) {
        for line in lines {
            let o = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let ts = Timestamp.parse(o["ts"] as! String)!
            events.append(Event(date: CivilDate(epochMilliseconds: ts), type: o["event_type"] as! String,
                                user: o["user_id"] as? String, feature: o["feature"] as? String))
        }
    }

    func usage(end: CivilDate, days: Int, funnel: [String], top: Int = 50) -> UsageReport {
        let start = end.adding(days: -(days - 1))
        let window = events.filter { $0.date >= start && $0.date <= end }
        let byDay = Dictionary(grouping: window, by: \.date)
        let byWeek = Dictionary(grouping: window, by: \.date.weekStart)
        func users(_ es: [Event]) -> Int { Set(es.compactMap(\.user)).count }
        let dayUsers = byDay.values.reduce(0) { $0 + users($1) }
        let weekUsers = byWeek.values.reduce(0) { $0 + users($1) }
        func ranked(_ counts: [String: Int]) -> [(String, Int)] {
            counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { ($0.key, $0.value) }
        }
        var types = Dictionary(window.map { ($0.type, 1) }, uniquingKeysWith: +)
        var steps = funnel.map { ($0, types[$0] ?? 0) }
        for s in funnel { types[s] = nil }
        steps += ranked(types)
        let features = Dictionary(window.compactMap { $0.feature.map { ($0, 1) } }, uniquingKeysWith: +)
        return UsageReport(
            start: start, end: end, periodDays: days,
            dau: byDay.isEmpty ? 0 : Double(dayUsers) / Double(byDay.count),
            wau: byWeek.isEmpty ? 0 : Double(weekUsers) / Double(byWeek.count),
            mau: users(window), featureUsage: Array(ranked(features).prefix(top)), funnelSteps: steps,
            totalEvents: window.count, uniqueDays: byDay.count, uniqueWeeks: byWeek.count)
    }

    func newUsers(on date: CivilDate) -> Int {
        var first: [String: CivilDate] = [:]
        for e in events { if let u = e.user { first[u] = min(first[u] ?? e.date, e.date) } }
        return first.values.filter { $0 == date }.count
    }
}
