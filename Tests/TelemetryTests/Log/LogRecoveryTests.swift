import Foundation
import Testing
@testable import Telemetry

@Suite struct LogRecoveryTests {
    static func segment(lines: Int) -> [UInt8] {
        stride(from: 0, to: lines, by: 100).flatMap { start in
            makeBatch((start..<min(lines, start + 100)).map { #"{"event_type":"a","id":"e\#($0)","user_id":"ü\#($0)"}"# }).lines
        }
    }

    @Test func tornTailCutAtEveryByteOffsetOfTheLastThreeLinesKeepsEveryCompleteLine() throws {
        let full = Self.segment(lines: 6)
        let newlines = full.indices.filter { full[$0] == 0x0A }
        let firstCut = newlines[newlines.count - 4] + 1
        for cut in firstCut..<full.count {
            let dir = TempDirectory()
            let path = dir.path + "/" + SegmentName.active
            _ = FileManager.default.createFile(atPath: path, contents: Data(full[0..<cut]))
            let report = try LogRecovery(directory: dir.path, logger: quietLogger).run()
            let complete = (full[0..<cut].lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
            #expect(try FileSystem.readAll(path) == Array(full[0..<complete]), "cut at \(cut)")
            #expect(report.tornBytes == cut - complete)
            #expect(report.quarantinedLines == 0)
        }
    }

    @Test func damagedLinesMoveToQuarantineAndValidOnesStay() throws {
        let dir = TempDirectory()
        var bytes = Self.segment(lines: 2)
        bytes += Array("{\"ts\":\"garbage\n".utf8)
        bytes += Self.segment(lines: 1)
        _ = FileManager.default.createFile(atPath: dir.path + "/" + SegmentName.active, contents: Data(bytes))
        let report = try LogRecovery(directory: dir.path, logger: quietLogger).run()
        #expect(report.quarantinedLines == 1)
        #expect(dir.lines().count == 3)
        let quarantined = FileSystem.list(dir.path + "/quarantine")
        #expect(quarantined.count == 1)
        #expect(dir.read("quarantine/" + quarantined[0]) == "{\"ts\":\"garbage\n")
    }

    @Test func crashBetweenRotationAndCompressionStepsLosesNothing() async throws {
        let dir = TempDirectory()
        let lines = Self.segment(lines: 3)
        let a = SegmentName(stamp: "20251020T100000", seq: 1, compressed: false)
        let b = SegmentName(stamp: "20251020T110000", seq: 2, compressed: false)
        let c = SegmentName(stamp: "20251020T120000", seq: 3, compressed: false)
        // a: compressed and renamed, but the plain file was not yet unlinked.
        _ = FileManager.default.createFile(atPath: dir.path + "/" + a.fileName, contents: Data(lines))
        try Gzip.compressFile(dir.path + "/" + a.fileName, to: dir.path + "/" + a.gzipped.fileName)
        // b: compression interrupted while writing its .tmp.
        _ = FileManager.default.createFile(atPath: dir.path + "/" + b.fileName, contents: Data(lines))
        _ = FileManager.default.createFile(atPath: dir.path + "/" + b.gzipped.fileName + ".tmp", contents: Data([0x1f, 0x8b]))
        // c: renamed from the active segment; the new active segment was never created.
        _ = FileManager.default.createFile(atPath: dir.path + "/" + c.fileName, contents: Data(lines))

        let app = try Storage.open(testConfiguration(dir), logger: quietLogger)
        #expect(app.recovery.uncompressed == [b, c])
        #expect(app.recovery.removedLeftovers.sorted() == [a.fileName, b.gzipped.fileName + ".tmp"].sorted())
        for name in app.recovery.uncompressed { app.maintenance.compress(name) }
        app.close()
        #expect(dir.files().filter { $0.hasPrefix("analytics_events") } == [
            a.gzipped.fileName, b.gzipped.fileName, c.gzipped.fileName, SegmentName.active,
        ])
        var count = 0
        let replay = LogReplay(directory: dir.path, logger: quietLogger)
        try replay.forEachEvent(in: replay.files()) { _, _ in count += 1 }
        #expect(count == 9)
        #expect(SegmentRotation.nextSeq(in: dir.path) == 4)
    }

    @Test func retentionDeletesClosedSegmentsWhoseNewestEventIsTooOldAndNeverTheActiveOne() throws {
        let dir = TempDirectory()
        let clock = ManualClock("2025-10-21T10:00:00Z")
        let old = makeBatch([#"{"event_type":"a","ts":"2025-07-01T00:00:00Z"}"#]).lines
        let recent = makeBatch([#"{"event_type":"a","ts":"2025-07-01T00:00:00Z"}"#, #"{"event_type":"a","ts":"2025-10-01T00:00:00Z"}"#]).lines
        _ = FileManager.default.createFile(atPath: dir.path + "/analytics_events-20250701T000000-000001.ndjson", contents: Data(old))
        _ = FileManager.default.createFile(atPath: dir.path + "/analytics_events-20251001T000000-000002.ndjson", contents: Data(recent))
        _ = FileManager.default.createFile(atPath: dir.path + "/" + SegmentName.active, contents: Data(old))
        try Gzip.compressFile(dir.path + "/analytics_events-20250701T000000-000001.ndjson", to: dir.path + "/analytics_events-20250701T000000-000001.ndjson.gz")
        try FileSystem.unlink(dir.path + "/analytics_events-20250701T000000-000001.ndjson")
        let service = LogMaintenanceService(directory: dir.path, retentionDays: 90, now: clock.now, logger: quietLogger)
        #expect(service.applyRetention() == ["analytics_events-20250701T000000-000001.ndjson.gz"])
        #expect(dir.files() == ["analytics_events-20251001T000000-000002.ndjson", SegmentName.active])
    }

    @Test func gzipRoundTripsThroughTheSegmentReader() throws {
        let dir = TempDirectory()
        let lines = Self.segment(lines: 5000)
        _ = FileManager.default.createFile(atPath: dir.path + "/x.ndjson", contents: Data(lines))
        try Gzip.compressFile(dir.path + "/x.ndjson", to: dir.path + "/x.ndjson.gz")
        var read: [UInt8] = []
        try SegmentReader.forEachLine(path: dir.path + "/x.ndjson.gz") { line, _ in
            read += line
            read.append(0x0A)
        }
        #expect(read == lines)
        #expect(FileSystem.size(dir.path + "/x.ndjson.gz")! < lines.count / 4)
    }
}
