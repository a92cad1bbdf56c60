/// The dedup window written at a clean shutdown, with the log position it matches, so a restart does not
/// have to read the last day of segments again. After a crash the position differs and the log is replayed.
package enum DedupSnapshot {
    package static let magic = "TLDUP"
    package static let version: UInt8 = 1

    static func path(_ store: AggregateStore) -> String { store.directory + "/dedup" }

    static func write(_ dedup: DedupCache, position: LogPosition, to store: AggregateStore) throws {
        let entries = dedup.entries()
        var w = BinaryWriter(magic: magic, version: version)
        w.reserve(entries.count * 16 + 64)
        w.int(position.seq)
        w.int(position.offset)
        w.int(entries.count)
        for (hash, at) in entries {
            w.u64(hash)
            w.int(Int(at))
        }
        try store.io.writeAtomically(path(store), w.sealed(), faultPoint: "dedup.written")
    }

    static func read(from store: AggregateStore) -> (position: LogPosition, entries: [(hash: UInt64, at: Int64)])? {
        guard let bytes = try? FileSystem.readAll(path(store)) else { return nil }
        return decode(bytes)
    }

    /// The snapshot in `bytes`, or nil when it is damaged.
    package static func decode(_ bytes: [UInt8]) -> (position: LogPosition, entries: [(hash: UInt64, at: Int64)])? {
        guard var r = try? BinaryReader(bytes, magic: magic, version: version),
            let seq = try? r.int(), let offset = try? r.int(), let count = try? r.int(), count >= 0, count <= bytes.count / 16
        else { return nil }
        var entries: [(hash: UInt64, at: Int64)] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            guard let h = try? r.u64(), let at = try? r.int() else { return nil }
            entries.append((h, Int64(at)))
        }
        return (LogPosition(seq: seq, offset: offset), entries)
    }
}
