import Logging
import Synchronization

/// Day aggregates on disk (docs/files.md): one file per date and generation, and a manifest naming the
/// current generation of each date and the log position they cover. Every file is written
/// tmp + fsync + rename, versioned and checksummed; old generations go only after the new manifest is in place.
public final class AggregateStore: Sendable {
    package static let dayMagic = "TLDAY"
    package static let manifestMagic = "TLMAN"
    package static let version: UInt8 = 2

    public let directory: String
    let io: any FileIO
    let logger: Logger
    struct Manifest {
        var generation = 0
        var position = LogPosition(seq: 1, offset: 0)
        var days: [Int: Int] = [:]
    }
    private let manifest = Locked(Manifest())
    private let flushing = Locked(())

    /// A read-only store (the `rollup` command beside a running daemon) never writes or deletes files.
    let readOnly: Bool

    public init(dataDirectory: String, io: any FileIO = PosixFileIO(), logger: Logger, readOnly: Bool = false) throws {
        directory = dataDirectory + "/aggregates"
        self.io = io
        self.logger = logger
        self.readOnly = readOnly
        if !readOnly { try io.makeDirectories(directory) }
    }

    var manifestPath: String { directory + "/manifest" }
    func dayPath(_ day: Int, _ gen: Int) -> String { directory + "/day-\(CivilDate(dayNumber: day)).\(gen).agg" }

    /// The per-directory key of the user hash, created on first use.
    public func hashKey() throws -> [UInt8] {
        let path = directory + "/key"
        if let key = try? FileSystem.readAll(path), key.count == 16 { return key }
        if readOnly { return [UInt8](repeating: 0, count: 16) }
        var key = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in key.indices { key[i] = UInt8.random(in: 0...255, using: &rng) }
        // A new key makes every stored hash meaningless: drop what was there.
        for file in FileSystem.list(directory) where file != "key" { try? io.unlinkFile(directory + "/" + file) }
        try io.writeAtomically(path, key)
        return key
    }

    public struct Loaded: Sendable {
        /// nil when there was no usable manifest: everything must come from the raw log.
        public var position: LogPosition?
        public var days = 0
        /// Dates whose file was missing or damaged.
        public var damaged: [Int] = []
    }

    /// Loads the aggregates into `index`.
    public func load(into index: DayIndex) -> Loaded {
        guard let bytes = try? FileSystem.readAll(manifestPath), let m = try? Self.decodeManifest(bytes) else {
            if FileSystem.exists(manifestPath) { logger.warning("aggregate manifest damaged; rebuilding from the raw log") }
            return loadOrphans(into: index)
        }
        var loaded = Loaded(position: m.position)
        index.load { bulk in
            for (day, gen) in m.days {
                guard let data = try? FileSystem.readAll(dayPath(day, gen)), (try? Self.decodeDay(data, day: day, into: &bulk.state)) != nil else {
                    logger.warning("day aggregate damaged", metadata: ["date": "\(CivilDate(dayNumber: day))"])
                    loaded.damaged.append(day)
                    continue
                }
                loaded.days += 1
            }
            bulk.state.position = m.position
            bulk.state.dirty = Set(loaded.damaged)
        }
        manifest.withLock { $0 = m }
        removeUnlisted(m)
        return loaded
    }

    /// Without a manifest, keep the newest intact file of each date; the raw log replaces them where it has data.
    private func loadOrphans(into index: DayIndex) -> Loaded {
        var newest: [Int: Int] = [:]
        for file in FileSystem.list(directory) {
            guard let (day, gen) = Self.parseDayFile(file) else { continue }
            newest[day] = max(newest[day] ?? -1, gen)
        }
        var loaded = Loaded(position: nil)
        index.load { bulk in
            for (day, gen) in newest {
                guard let data = try? FileSystem.readAll(dayPath(day, gen)), (try? Self.decodeDay(data, day: day, into: &bulk.state)) != nil
                else { continue }
                loaded.days += 1
                bulk.state.dirty.insert(day)
            }
        }
        return loaded
    }

    static func parseDayFile(_ file: String) -> (Int, Int)? {
        guard file.hasPrefix("day-"), file.hasSuffix(".agg") else { return nil }
        let parts = file.dropFirst(4).dropLast(4).split(separator: ".")
        guard parts.count == 2, let date = CivilDate(iso: parts[0]), let gen = Int(parts[1]) else { return nil }
        return (date.dayNumber, gen)
    }

    private func removeUnlisted(_ m: Manifest) {
        guard !readOnly else { return }
        for file in FileSystem.list(directory) {
            guard let (day, gen) = Self.parseDayFile(file), m.days[day] != gen else { continue }
            try? io.unlinkFile(directory + "/" + file)
        }
    }

    /// Writes the dates changed since the last flush, then the manifest. Safe to call from any task.
    @discardableResult
    public func flush(_ index: DayIndex) throws -> Int {
        guard !readOnly else { return 0 }
        return try flushing.withLock { _ in
            let changes = index.takeChanges()
            let changed = changes.days.map { ($0.0, Self.encodeDay($0.1, changes)) }
            let removed = changes.removed
            let position = changes.position
            var m = manifest.withLock { $0 }
            guard !changed.isEmpty || !removed.isEmpty || m.position != position else { return 0 }
            m.generation += 1
            do {
                for (day, bytes) in changed {
                    try io.writeAtomically(dayPath(day, m.generation), bytes, syncDirectory: false)
                    m.days[day] = m.generation
                }
                // One directory fsync covers every day file; the manifest's own rename is synced after it.
                if !changed.isEmpty { try io.fsyncDirectory(directory) }
                FaultPoint.reach("aggregates.days-written")
                for day in removed { m.days[day] = nil }
                m.position = position
                try io.writeAtomically(manifestPath, Self.encodeManifest(m))
            } catch {
                index.markChanged(changed.map(\.0) + removed)
                throw error
            }
            manifest.withLock { $0 = m }
            removeUnlisted(m)
            return changed.count + removed.count
        }
    }

    static func encodeManifest(_ m: Manifest) -> [UInt8] {
        var w = BinaryWriter(magic: manifestMagic, version: version)
        w.int(m.generation)
        w.int(m.position.seq)
        w.int(m.position.offset)
        w.int(m.days.count)
        for (day, gen) in m.days.sorted(by: { $0.key < $1.key }) {
            w.int(day)
            w.int(gen)
        }
        return w.sealed()
    }

    static func decodeManifest(_ bytes: [UInt8]) throws -> Manifest {
        var r = try BinaryReader(bytes, magic: manifestMagic, version: version)
        var m = Manifest()
        m.generation = try r.int()
        m.position = LogPosition(seq: try r.int(), offset: try r.int())
        let n = try r.int()
        guard n >= 0 && n < 1_000_000 else { throw BinaryReader.Damaged() }
        for _ in 0..<n { m.days[try r.int()] = try r.int() }
        return m
    }

    static func encodeDay(_ agg: DayAggregate, _ s: DayIndex.Changes) -> [UInt8] {
        var w = BinaryWriter(magic: dayMagic, version: version)
        w.int(agg.events)
        for (counts, names) in [(agg.types, s.types), (agg.features, s.features)] {
            let used = counts.indices.filter { counts[$0] > 0 }
            w.int(used.count)
            for i in used {
                w.blob(Array(names.bytes(i)))
                w.int(counts[i])
            }
        }
        var hashes: [UInt64] = []
        hashes.reserveCapacity(agg.users.count)
        agg.users.forEach { hashes.append(s.users.hashes[Int($0)]) }
        hashes.sort()
        w.int(hashes.count)
        for h in hashes { w.u64(h) }
        w.int(agg.hours.count)
        for n in agg.hours { w.int(n) }
        return w.sealed()
    }

    /// Reads a day file or the manifest from its bytes as a start does, into a scratch index: the reader the
    /// aggregate fuzz target drives. Throws when the bytes are damaged.
    package static func decodeFile(_ bytes: [UInt8]) throws {
        if bytes.starts(with: Array(manifestMagic.utf8)) {
            _ = try decodeManifest(bytes)
        } else {
            var state = DayIndex.State()
            try decodeDay(bytes, day: 20_000, into: &state)
        }
    }

    static func decodeDay(_ bytes: [UInt8], day: Int, into s: inout DayIndex.State) throws {
        var r = try BinaryReader(bytes, magic: dayMagic, version: version)
        var agg = DayAggregate()
        agg.events = try r.int()
        // Every count lies within the day's events, and those within 2^40, so no later sum can overflow (a
        // file that says otherwise is damaged, whatever its checksum: found by the aggregate fuzzer).
        guard agg.events >= 0 && agg.events < 1 << 40 else { throw BinaryReader.Damaged() }
        for kind in 0..<2 {
            let n = try r.int()
            guard n >= 0 && n < 10_000_000 else { throw BinaryReader.Damaged() }
            for _ in 0..<n {
                let name = try r.blob()
                let count = try r.int()
                guard count >= 0 && count <= agg.events else { throw BinaryReader.Damaged() }
                if kind == 0 {
                    let id = s.types.id(name)
                    if id >= agg.types.count { agg.types += repeatElement(0, count: id + 1 - agg.types.count) }
                    agg.types[id] += count
                    guard agg.types[id] <= agg.events else { throw BinaryReader.Damaged() }
                } else {
                    let id = s.features.id(name)
                    if id >= agg.features.count { agg.features += repeatElement(0, count: id + 1 - agg.features.count) }
                    agg.features[id] += count
                    guard agg.features[id] <= agg.events else { throw BinaryReader.Damaged() }
                }
            }
        }
        let users = try r.int()
        guard users >= 0 && users <= bytes.count / 8 else { throw BinaryReader.Damaged() }
        var ids: [UInt32] = []
        ids.reserveCapacity(users)
        for _ in 0..<users { ids.append(s.users.id(try r.u64())) }
        agg.users = UserSet(ids: ids)
        let hours = try r.int()
        guard hours == 0 || hours == 24 else { throw BinaryReader.Damaged() }
        for _ in 0..<hours {
            let n = try r.int()
            guard n >= 0 && n <= agg.events else { throw BinaryReader.Damaged() }
            agg.hours.append(n)
        }
        guard r.atEnd else { throw BinaryReader.Damaged() }
        s.days[day] = agg
    }
}
