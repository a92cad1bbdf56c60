/// A UTC calendar date as days since 1970-01-01, with the conversions the log and the index need.
public struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var dayNumber: Int

    public init(dayNumber: Int) { self.dayNumber = dayNumber }

    public init(epochMilliseconds ms: Int64) {
        self.dayNumber = Int((ms >= 0 ? ms : ms - (Milliseconds.day - 1)) / Milliseconds.day)
    }

    /// Days from civil, Howard Hinnant's algorithm.
    public init(year: Int, month: Int, day: Int) {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        self.dayNumber = era * 146_097 + doe - 719_468
    }

    /// Parses `YYYY-MM-DD`, rejecting impossible dates.
    public init?(iso string: some StringProtocol) {
        let b = Array(string.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = Self.digits(b, 0, 4), let m = Self.digits(b, 5, 2), let d = Self.digits(b, 8, 2),
            (1...12).contains(m), d >= 1, d <= Self.daysInMonth(year: y, month: m)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var components: (year: Int, month: Int, day: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// ISO weekday, Monday = 0 … Sunday = 6.
    public var weekdayFromMonday: Int { ((dayNumber % 7) + 7 + 3) % 7 }

    /// The Monday of this date's ISO week.
    public var weekStart: CivilDate { CivilDate(dayNumber: dayNumber - weekdayFromMonday) }

    public var startMilliseconds: Int64 { Int64(dayNumber) * Milliseconds.day }

    public func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + days) }

    public var description: String {
        let c = components
        var s = ""
        s.reserveCapacity(10)
        Self.pad(&s, c.year, 4); s += "-"; Self.pad(&s, c.month, 2); s += "-"; Self.pad(&s, c.day, 2)
        return s
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.dayNumber < b.dayNumber }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func digits(_ b: [UInt8], _ at: Int, _ n: Int) -> Int? {
        var v = 0
        for i in at..<(at + n) {
            let c = b[i] &- 48
            guard c < 10 else { return nil }
            v = v * 10 + Int(c)
        }
        return v
    }

    static func pad(_ s: inout String, _ v: Int, _ width: Int) {
        let digits = String(v)
        if digits.count < width { s += String(repeating: "0", count: width - digits.count) }
        s += digits
    }
}
