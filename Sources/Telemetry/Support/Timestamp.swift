/// Timestamps as integer UTC epoch milliseconds: parsed from RFC 3339 and written in the log's canonical form.
public enum Timestamp {
    /// Parses RFC 3339 (`T` or space, optional fraction, `Z` or ±HH:MM) into epoch milliseconds.
    ///
    /// Straight-line arithmetic over the fixed positions: a non-digit anywhere a digit belongs sets a flag that is
    /// checked once (this runs for every event on ingest and on every rebuild).
    public static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = b.count
        guard n >= 20, let p = b.baseAddress else { return nil }
        var bad = false
        @inline(__always) func digit(_ i: Int) -> Int {
            let c = p[i] &- 48
            bad = bad || c > 9
            return Int(c)
        }
        @inline(__always) func two(_ i: Int) -> Int { digit(i) &* 10 &+ digit(i + 1) }
        let year = two(0) &* 100 &+ two(2)
        let month = two(5)
        let day = two(8)
        let hour = two(11)
        let minute = two(14)
        let second = two(17)
        let t = p[10]
        guard !bad, p[4] == 45, p[7] == 45, t == 84 || t == 116 || t == 32, p[13] == 58, p[16] == 58,
            month >= 1, month <= 12, day >= 1, day <= CivilDate.daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        var i = 19
        var millis = 0
        if p[i] == 46 {
            i += 1
            var digits = 0
            while i < n {
                let c = p[i] &- 48
                guard c < 10 else { break }
                if digits < 3 { millis = millis &* 10 &+ Int(c) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { millis *= digits == 1 ? 100 : 10 }
        }
        guard i < n else { return nil }
        var offsetMinutes = 0
        switch p[i] {
        case 90, 122:  // Z z
            i += 1
        case 43, 45:  // + -
            guard i + 6 == n, p[i + 3] == 58 else { return nil }
            let oh = two(i + 1)
            let om = two(i + 4)
            guard !bad, oh < 24, om < 60 else { return nil }
            offsetMinutes = (oh * 60 + om) * (p[i] == 45 ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == n else { return nil }
        let days = Int64(CivilDate(year: year, month: month, day: day).dayNumber)
        let secs = days * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
        return secs * 1000 + Int64(millis)
    }

    public static func parse(_ string: String) -> Int64? {
        var s = string
        return s.withUTF8 { parse($0) }
    }

    /// The length of `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static let maxLength = 24

    /// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    @inline(__always)
    public static func write(_ ms: Int64, into out: inout [UInt8]) {
        var day = DayDigits()
        write(ms, into: &out, day: &day)
    }

    /// `YYYY-MM-DDT` of the date last written: the events of a batch mostly share a date.
    struct DayDigits {
        var dayNumber = Int.min
        var digits: (UInt64, UInt32) = (0, 0)

        @inline(__always)
        mutating func load(_ date: CivilDate) {
            guard date.dayNumber != dayNumber else { return }
            let c = date.components
            var word: UInt64 = 0
            var shift: UInt64 = 0
            @inline(__always) func put(_ byte: Int) {
                word |= UInt64(byte) << shift
                shift += 8
            }
            @inline(__always) func two(_ v: Int) {
                put(48 + v / 10)
                put(48 + v % 10)
            }
            two(c.year / 100 % 100); two(c.year % 100); put(45); two(c.month); put(45)
            let first = word
            word = 0
            shift = 0
            two(c.day); put(84)
            digits = (UInt64(littleEndian: first), UInt32(littleEndian: UInt32(word)))
            dayNumber = date.dayNumber
        }
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS.mmmZ`, reusing `day`'s digits when the date repeats.
    @inline(__always)
    static func write<Sink: TimestampSink>(_ ms: Int64, into out: inout Sink, day: inout DayDigits) {
        let date = CivilDate(epochMilliseconds: ms)
        day.load(date)
        let rem = Int(ms - date.startMilliseconds)
        let secs = rem / 1000
        let millis = rem % 1000
        @inline(__always) func two(_ v: Int) {
            out.append(UInt8(48 + v / 10))
            out.append(UInt8(48 + v % 10))
        }
        out.append(dateDigits: day.digits)
        two(secs / 3600); out.append(58); two(secs / 60 % 60); out.append(58); two(secs % 60); out.append(46)
        out.append(UInt8(48 + millis / 100)); two(millis % 100); out.append(90)
    }

    public static func string(_ ms: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(24)
        write(ms, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, the form the API answers with.
    public static func secondsString(_ ms: Int64) -> String {
        let full = string(ms)
        return String(full.prefix(19)) + "Z"
    }
}

/// Where `Timestamp.write` puts its bytes.
protocol TimestampSink {
    mutating func append(_ byte: UInt8)
    /// Appends the eleven bytes `YYYY-MM-DDT` held little-endian in `digits`.
    mutating func append(dateDigits digits: (UInt64, UInt32))
}

extension TimestampSink {
    mutating func append(dateDigits digits: (UInt64, UInt32)) {
        withUnsafeBytes(of: digits.0) { for b in $0 { append(b) } }
        withUnsafeBytes(of: digits.1) { for b in $0.prefix(3) { append(b) } }
    }
}

extension Array: TimestampSink where Element == UInt8 {}
