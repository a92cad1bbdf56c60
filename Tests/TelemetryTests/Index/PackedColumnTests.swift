import Testing
@testable import Telemetry

/// A packed column reads back every value appended to it, in order, however it had to widen, before and after
/// it is compacted and when rows arrive after that.
@Suite struct PackedColumnTests {
    /// Values of a few magnitudes, `DayColumns.none` among them, as the user, session, ms and code columns hold.
    static func values(_ rng: inout SplitMix, _ n: Int) -> [UInt32] {
        let scale = [UInt32(3), 200, 70_000, 86_400_000, UInt32.max - 1][rng.next(5)]
        let base = UInt32(rng.next(1_000_000))
        return (0..<n).map { _ in
            rng.next(10) == 0 ? DayColumns.none : (scale == UInt32.max - 1 ? UInt32(rng.next(Int(scale))) : base + UInt32(rng.next(Int(scale))))
        }
    }

    static func contents(_ c: PackedColumn) -> [UInt32] {
        c.withReader { r in r.indices.map { r[$0] } }
    }

    @Test func everyValueReadsBackAsAppendedCompactedAndAppendedAgain() {
        let seed = testSeed()
        var rng = SplitMix(state: seed)
        for _ in 0..<300 {
            let first = Self.values(&rng, rng.next(2_000))
            var column = PackedColumn()
            for v in first { column.append(v) }
            #expect(Self.contents(column) == first, "seed \(seed)")
            #expect(column.decoded() == first, "seed \(seed)")
            column.compact()
            #expect(Self.contents(column) == first, "seed \(seed)")
            for (i, v) in first.enumerated() where i % 97 == 0 { #expect(column[i] == v, "seed \(seed)") }
            // Late rows: smaller, larger and absent values after the column was packed exactly.
            let late = Self.values(&rng, rng.next(50))
            for v in late { column.append(v) }
            #expect(Self.contents(column) == first + late, "seed \(seed)")
            #expect(column.count == first.count + late.count)
            if let probe = late.first { #expect(column.contains(probe), "seed \(seed)") }
        }
    }

    @Test func theWidestValuesAndNoneKeepTheirCodesApart() {
        for values: [UInt32] in [[UInt32.max - 1, 0, DayColumns.none], [DayColumns.none, DayColumns.none], [UInt32.max - 1],
                                 [0], [5, 5, 5, DayColumns.none], (0..<33).map { $0 == 32 ? UInt32.max - 1 : (UInt32(1) << UInt32($0)) - 1 }] {
            var column = PackedColumn()
            for v in values { column.append(v) }
            #expect(column.decoded() == values)
            column.compact()
            #expect(column.decoded() == values)
            column.append(UInt32.max - 1)
            column.append(DayColumns.none)
            #expect(column.decoded() == values + [UInt32.max - 1, DayColumns.none])
        }
    }

    @Test func aPackedDateTakesTheBitsItsValuesNeed() {
        var column = PackedColumn()
        for v in 0..<100_000 { column.append(UInt32(2_000_000 + v % 40_000)) }
        column.compact()
        // 40,000 distinct values above their smallest, and the code for none: 16 bits a row.
        #expect(column.memoryBytes <= 100_000 * 2 + 64)
        #expect(column[99_999] == 2_000_000 + 99_999 % 40_000)
        #expect(!column.contains(DayColumns.none))
        var empty = PackedColumn()
        empty.compact()
        #expect(empty.count == 0 && empty.decoded().isEmpty)
    }

    /// Late rows reopen a packed date; each reopening doubles the quiet spell before it is packed again, so a
    /// date that keeps receiving late events is not copied once per spell.
    @Test func aDateReopenedAgainAndAgainWaitsLongerEachTimeBeforeItIsPackedAgain() {
        var day = DayColumns()
        day.append(DayColumns.Row(ms: 5), seq: 1)
        day.append(DayColumns.Row(ms: 6), seq: 1)
        #expect(day.reopenings == 0, "rows appended before the first packing reopen nothing")
        day.compact()
        for n in 1...3 {
            day.append(DayColumns.Row(ms: UInt32(10 * n)), seq: 2)
            day.append(DayColumns.Row(ms: UInt32(10 * n + 1)), seq: 2)
            #expect(day.reopenings == n)
            day.compact()
        }
        _ = day.removeAll(into: nil) { _, seq in seq == 1 }
        #expect(day.reopenings == 3 && day.ms.decoded() == [10, 11, 20, 21, 30, 31])
        let first = EventTable.idleAppliesBeforePacking
        #expect(EventTable.quietSpell(reopenings: 0) == first && EventTable.quietSpell(reopenings: 1) == first)
        #expect(EventTable.quietSpell(reopenings: 2) == 2 * first && EventTable.quietSpell(reopenings: 4) == 8 * first)
        #expect(EventTable.quietSpell(reopenings: 50) == first << 10)
    }

    /// A packed date moves to the column file and reads back the same, through the mapping, after its pages
    /// were let go; late rows bring it back to the heap, and the region it left is unmapped with the last copy.
    @Test func aDateInTheColumnFileReadsAsOnTheHeapAndComesBackForLateRows() throws {
        let dir = TempDirectory()
        let file = try #require(ColumnFile(directory: dir.path))
        let seed = testSeed()
        var rng = SplitMix(state: seed)
        var day = DayColumns()
        var expected: [DayColumns.Row] = []
        for i in 0..<5_000 {
            let row = DayColumns.Row(ms: UInt32(i * 1_000), user: i % 7 == 0 ? DayColumns.none : UInt32(rng.next(100_000)),
                                     session: UInt32(rng.next(200_000)), type: UInt32(i % 5), feature: UInt32(i % 3),
                                     page: UInt32(rng.next(3_000)), source: 1, client: UInt32(i % 40), props: 0)
            expected.append(row)
            day.append(row, seq: 1)
        }
        func rows(_ d: DayColumns) -> [[UInt32]] {
            [d.ms.decoded(), d.user.decoded(), d.session.decoded(), d.type.decoded(), d.feature.decoded(), d.page.decoded(),
             d.source.decoded(), d.client.decoded(), d.props.decoded()]
        }
        func rows(_ r: [DayColumns.Row]) -> [[UInt32]] {
            [r.map(\.ms), r.map(\.user), r.map(\.session), r.map(\.type), r.map(\.feature), r.map(\.page), r.map(\.source),
             r.map(\.client), r.map(\.props)]
        }
        day.compact(into: file)
        #expect(day.isStored && day.memoryBytes < 1_000 && file.liveBytes > 5_000)
        #expect(rows(day) == rows(expected), "seed \(seed)")
        file.dropResidentPages()
        #expect(rows(day) == rows(expected), "seed \(seed): read back from the page cache")
        let snapshot = day
        day.append(DayColumns.Row(ms: 86_399_999, user: 7), seq: 2)
        expected.append(DayColumns.Row(ms: 86_399_999, user: 7))
        #expect(!day.isStored && day.reopenings == 1 && rows(day) == rows(expected))
        #expect(rows(snapshot) == rows(Array(expected.dropLast())), "a snapshot keeps reading the region")
        let mapped = file.liveBytes
        day.compact(into: file)
        let both = file.liveBytes
        #expect(day.isStored && both > mapped)
        _ = consume snapshot
        #expect(file.liveBytes == both - mapped, "the first region went with its last reader")
        #expect(rows(day) == rows(expected))
    }

    /// The column file is a cache: it leaves its file system the free space the raw log needs, and what would
    /// take that stays on the heap, answering the same.
    @Test func theColumnFileLeavesTheDiskToTheRawLog() throws {
        let dir = TempDirectory()
        let crowded = try #require(ColumnFile(directory: dir.path, keepFree: Int.max / 2))
        var day = DayColumns()
        for i in 0..<1_000 { day.append(DayColumns.Row(ms: UInt32(i), user: UInt32(i % 10)), seq: 1) }
        day.compact(into: crowded)
        #expect(!day.isStored && crowded.liveBytes == 0)
        #expect(day.ms.decoded() == (0..<1_000).map(UInt32.init) && day.user[999] == 9)
        let roomy = try #require(ColumnFile(directory: dir.path, keepFree: 0))
        day.compact(into: roomy)
        #expect(day.isStored && roomy.liveBytes > 0 && day.user[999] == 9)
    }
}
