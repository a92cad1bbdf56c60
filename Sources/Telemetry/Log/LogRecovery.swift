#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// Brings a data directory back to a consistent state before the writer opens it (docs/files.md).
public struct LogRecovery {
    public struct Report: Sendable, Equatable {
        public var tornBytes = 0
        public var quarantinedLines = 0
        public var removedLeftovers: [String] = []
        /// Closed segments still waiting for compression.
        public var uncompressed: [SegmentName] = []
    }

    let directory: String
    let io: any FileIO
    let logger: Logger

    public init(directory: String, io: any FileIO = PosixFileIO(), logger: Logger) {
        self.directory = directory
        self.io = io
        self.logger = logger
    }

    public var quarantineDirectory: String { directory + "/quarantine" }

    public func run() throws -> Report {
        var report = Report()
        try io.makeDirectories(directory)
        let files = FileSystem.list(directory)
        let names = Set(files)
        for file in files where file.hasSuffix(".tmp") {
            try io.unlinkFile(directory + "/" + file)
            report.removedLeftovers.append(file)
            logger.info("removed leftover of an interrupted write", metadata: ["file": "\(file)"])
        }
        for file in files {
            guard let name = SegmentName(fileName: file), !name.compressed else { continue }
            if names.contains(name.gzipped.fileName) {
                // The .gz was renamed into place only after its fsync: it is complete.
                try io.unlinkFile(directory + "/" + file)
                report.removedLeftovers.append(file)
                logger.info("removed segment already compressed", metadata: ["segment": "\(file)"])
            } else {
                try repair(file, report: &report)
                report.uncompressed.append(name)
            }
        }
        if names.contains(SegmentName.active) { try repair(SegmentName.active, report: &report) }
        report.uncompressed.sort()
        if report.removedLeftovers.count > 0 || report.tornBytes > 0 || report.quarantinedLines > 0 {
            try io.fsyncDirectory(directory)
        }
        return report
    }

    /// Cuts a torn last line and moves damaged lines to `quarantine/`.
    func repair(_ file: String, report: inout Report) throws {
        let path = directory + "/" + file
        let bytes = try FileSystem.readAll(path)
        guard !bytes.isEmpty else { return }
        var complete = bytes.count
        if bytes.last != 0x0A {
            complete = (bytes.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
            let torn = bytes.count - complete
            logger.warning("cut torn last line", metadata: ["segment": "\(file)", "bytes": "\(torn)"])
            report.tornBytes += torn
        }
        var kept: [UInt8] = []
        var damaged: [UInt8] = []
        var damagedCount = 0
        var start = 0
        while start < complete {
            let end = bytes[start..<complete].firstIndex(of: 0x0A)!
            if StoredEvent.parse(bytes[start..<end]) == nil {
                damaged.append(contentsOf: bytes[start...end])
                damagedCount += 1
            } else {
                kept.append(contentsOf: bytes[start...end])
            }
            start = end + 1
        }
        if damagedCount > 0 {
            try io.makeDirectories(quarantineDirectory)
            let target = quarantineDirectory + "/" + file.replacingOccurrences(of: ".ndjson", with: "") + "-\(Int(Date().timeIntervalSince1970)).ndjson"
            try io.writeAtomically(target, damaged)
            try io.writeAtomically(path, kept)
            logger.warning("moved damaged lines to quarantine", metadata: [
                "segment": "\(file)", "lines": "\(damagedCount)", "quarantine": "\(target)",
            ])
            report.quarantinedLines += damagedCount
        } else if complete < bytes.count {
            try io.truncateFile(path, to: complete)
        }
    }
}
