import Foundation
import Testing
@testable import Telemetry

/// Random batches as browsers might send them: offsets, anonymous users, extra types, late events.
struct RandomEvents {
    var rng: SplitMix
    let now: Int64

    mutating func batch(_ n: Int) -> String {
        let types = ["page_view", "action", "conversion", "signup", "error_shown"]
        let features = ["dashboard", "billing", "Zeta", "émoji😀", "a\"quote"]
        let events = (0..<n).map { _ -> String in
            var fields = [#""event_type":"\#(types[rng.next(types.count)])""#]
            // Over 400 days back, so some are ignored as too old; some with offsets.
            let ms = now - Int64(rng.next(400 * 86_400)) * 1000 - Int64(rng.next(1000))
            if rng.next(4) == 0 {
                let hours = rng.next(25) - 12
                let local = Timestamp.string(ms + Int64(hours) * 3_600_000)
                let sign = hours < 0 ? "-" : "+"
                fields.append(#""ts":"\#(local.dropLast())\#(sign)\#(String(format: "%02d", abs(hours))):00""#)
            } else {
                fields.append(#""ts":\#(ms)"#)
            }
            switch rng.next(6) {
            case 0: break
            case 1: fields.append(#""user_id":"""#)
            default: fields.append(#""user_id":"user\#(rng.next(300))""#)
            }
            if rng.next(5) > 0 { fields.append(#""feature":"\#(features[rng.next(features.count)].replacingOccurrences(of: "\"", with: "\\\""))""#) }
            return "{" + fields.joined(separator: ",") + "}"
        }
        return #"{"events":[\#(events.joined(separator: ","))]}"#
    }
}

@Suite struct DayIndexTests {
    static let funnel = ["page_view", "action", "conversion"]

    @Test(arguments: [1, 2, 3])
    func matchesTheReferenceModelForEveryWindow(seed: UInt64) throws {
        let now = Timestamp.parse("2025-10-21T10:00:00Z")!
        var random = RandomEvents(rng: SplitMix(state: seed), now: now)
        let index = DayIndex(hasher: SipHash(key: Array(repeating: 7, count: 16)))
        var model = ReferenceModel()
        for _ in 0..<40 {
            let text = random.batch(100)
            let batch = try Array(text.utf8).withUnsafeBufferPointer { b throws(BatchError) in try EventDecoder().decode(b, receivedAt: now) }
            index.committed([batch], through: LogPosition(seq: 1, offset: 0))
            model.add(storedLines: batch.lineStrings)
        }
        let today = CivilDate(epochMilliseconds: now)
        for end in [today, today.adding(days: -3), today.adding(days: -100)] {
            for days in 1...365 {
                let got = index.usage(end: end, days: days, funnel: Self.funnel)
                let want = model.usage(end: end, days: days, funnel: Self.funnel)
                #expect(got == want, "end \(end) days \(days)")
                if got != want { return }
            }
        }
        let daily = index.daily(end: today, days: 20, funnel: Self.funnel)
        for d in daily { #expect(d.newUsers == model.newUsers(on: d.date), "\(d.date)") }
    }

    @Test func emptyWindowIsAllZerosWithTheFunnelStepsPresent() {
        let index = DayIndex(hasher: SipHash(key: Array(repeating: 1, count: 16)))
        let r = index.usage(end: CivilDate(iso: "2025-10-21")!, days: 30, funnel: Self.funnel)
        #expect(r.dau == 0 && r.wau == 0 && r.mau == 0 && r.totalEvents == 0 && r.uniqueDays == 0 && r.uniqueWeeks == 0)
        #expect(r.funnelSteps.map(\.0) == Self.funnel)
        #expect(r.funnelSteps.allSatisfy { $0.1 == 0 })
    }

    @Test func userSetSwitchesToABitmapAndKeepsEveryMember() {
        var set = UserSet()
        var rng = SplitMix(state: 9)
        var reference = Set<UInt32>()
        for _ in 0..<20_000 {
            let id = UInt32(rng.next(50_000))
            set.insert(id)
            reference.insert(id)
        }
        #expect(set.count == reference.count)
        var members = Set<UInt32>()
        set.forEach { members.insert($0) }
        #expect(members == reference)
        #expect(UserSet(ids: Array(reference)) == set || UserSet(ids: Array(reference)).count == set.count)
    }

    @Test func sipHashMatchesTheReferenceVector() {
        // SipHash-2-4 test vector: key 00..0f, message 00..0e → a129ca6149be45e5.
        let h = SipHash(key: Array(0..<16))
        let message = [UInt8](0..<15)
        #expect(message.withUnsafeBufferPointer { h.hash($0) } == 0xa129_ca61_49be_45e5)
    }
}
