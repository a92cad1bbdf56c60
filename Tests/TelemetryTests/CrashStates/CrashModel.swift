/// What a power cut can leave on disk after a prefix of a recorded trace, under POSIX with ext4's ordered
/// mode: a file's contents are durable up to its last fsync/fdatasync, and beyond that any appended bytes
/// may be lost whole or cut at a 4 KiB boundary; a name change (create, rename, unlink) is durable once its
/// directory is fsynced, and before that each one may or may not have happened, independently of the others
/// and of the files' contents.
struct CrashModel {
    enum Entry: Hashable {
        case file(Int)
        case directory
    }

    /// A file's bytes as of its last sync, and now.
    struct Node {
        var durable: [UInt8]
        var current: [UInt8]
    }

    /// One change of names in a directory: a rename is one change, removing one name and adding another.
    struct NameChange {
        var directory: String
        var removes: [String]
        var adds: [(String, Entry)]
    }

    /// The files and directories of one possible post-crash disk, paths relative to the data directory.
    struct State: Hashable {
        var files: [String: [UInt8]]
        var directories: Set<String>
    }

    static let page = 4096

    private(set) var nodes: [Int: Node] = [:]
    private(set) var names: [String: Entry] = [:]
    private(set) var durableNames: [String: Entry] = [:]
    private(set) var pending: [NameChange] = []
    private(set) var acknowledged: Set<String> = []
    private(set) var removable: Set<String> = []

    init(initial: [String: RecordingFileIO.InitialEntry]) {
        for (path, entry) in initial {
            switch entry {
            case let .file(node, bytes):
                nodes[node] = Node(durable: bytes, current: bytes)
                names[path] = .file(node)
            case .directory:
                names[path] = .directory
            }
        }
        durableNames = names
    }

    private static func join(_ directory: String, _ name: String) -> String { directory.isEmpty ? name : directory + "/" + name }

    private static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    mutating func apply(_ op: DiskOp) {
        switch op {
        case let .create(directory, name, node):
            let entry: Entry = node.map { .file($0) } ?? .directory
            if let node { nodes[node] = Node(durable: [], current: []) }
            change(NameChange(directory: directory, removes: [], adds: [(name, entry)]))
        case let .write(node, offset, bytes):
            var current = nodes[node]!.current
            if current.count < offset { current += [UInt8](repeating: 0, count: offset - current.count) }
            let end = offset + bytes.count
            if current.count < end { current += [UInt8](repeating: 0, count: end - current.count) }
            current.replaceSubrange(offset..<end, with: bytes)
            nodes[node]!.current = current
        case let .truncate(node, length):
            var current = nodes[node]!.current
            if current.count > length { current.removeLast(current.count - length) } else { current += [UInt8](repeating: 0, count: length - current.count) }
            nodes[node]!.current = current
        case let .sync(node, _):
            nodes[node]!.durable = nodes[node]!.current
        case let .syncDirectory(directory):
            for path in durableNames.keys where Self.parent(path) == directory { durableNames[path] = nil }
            for (path, entry) in names where Self.parent(path) == directory { durableNames[path] = entry }
            pending.removeAll { $0.directory == directory }
        case let .rename(directory, from, to):
            let entry = names[Self.join(directory, from)]!
            change(NameChange(directory: directory, removes: [from], adds: [(to, entry)]))
        case let .unlink(directory, name):
            change(NameChange(directory: directory, removes: [name], adds: []))
        case let .acknowledged(ids):
            acknowledged.formUnion(ids)
        case let .removable(ids):
            removable.formUnion(ids)
        }
    }

    private mutating func change(_ c: NameChange) {
        for name in c.removes { names[Self.join(c.directory, name)] = nil }
        for (name, entry) in c.adds { names[Self.join(c.directory, name)] = entry }
        pending.append(c)
    }

    /// The names after the durable ones plus the pending changes `keep` picks, applied in order.
    private func names(keeping keep: (Int) -> Bool) -> [String: Entry] {
        var out = durableNames
        for (i, c) in pending.enumerated() where keep(i) {
            for name in c.removes { out[Self.join(c.directory, name)] = nil }
            for (name, entry) in c.adds { out[Self.join(c.directory, name)] = entry }
        }
        return out
    }

    /// The lengths a file may have after the cut: its durable length, every 4 KiB boundary past it, its
    /// current length; or its durable or current bytes when it was not only appended to.
    func cuts(_ node: Int) -> [[UInt8]] {
        let n = nodes[node]!
        guard n.durable != n.current else { return [n.current] }
        guard n.current.count > n.durable.count, n.current.starts(with: n.durable) else { return [n.durable, n.current] }
        var lengths = [n.durable.count]
        var boundary = (n.durable.count / Self.page + 1) * Self.page
        while boundary < n.current.count {
            lengths.append(boundary)
            boundary += Self.page
        }
        lengths.append(n.current.count)
        return lengths.map { Array(n.current[0..<$0]) }
    }

    private func state(_ names: [String: Entry], content: (Int) -> [UInt8]) -> State {
        var files: [String: [UInt8]] = [:]
        var directories: Set<String> = []
        for (path, entry) in names where entry == .directory { directories.insert(path) }
        for (path, entry) in names {
            // A name inside a directory whose own name did not survive is gone with it.
            var up = Self.parent(path)
            var reachable = true
            while !up.isEmpty {
                if !directories.contains(up) { reachable = false; break }
                up = Self.parent(up)
            }
            guard reachable else { continue }
            if case let .file(node) = entry { files[path] = content(node) }
        }
        directories = directories.filter { d in
            var up = Self.parent(d)
            while !up.isEmpty {
                if !directories.contains(up) { return false }
                up = Self.parent(up)
            }
            return true
        }
        return State(files: files, directories: directories)
    }

    /// Every state a cut here may leave, within these bounds: each subset of the pending name changes when
    /// there are at most `subsetLimit` of them (else each prefix and each one left out); for each, every file
    /// durable, every file current, and each cut of each file with bytes not yet synced (the others current).
    func crashStates(subsetLimit: Int = 5) -> Set<State> {
        var out: Set<State> = []
        let k = pending.count
        var choices: [(Int) -> Bool] = []
        if k <= subsetLimit {
            for mask in 0..<(1 << k) { choices.append { mask & (1 << $0) != 0 } }
        } else {
            for prefix in 0...k { choices.append { $0 < prefix } }
            for left in 0..<k { choices.append { $0 != left } }
        }
        let dirty = nodes.keys.filter { nodes[$0]!.durable != nodes[$0]!.current }.sorted()
        for keep in choices {
            let n = names(keeping: keep)
            out.insert(state(n) { nodes[$0]!.current })
            out.insert(state(n) { nodes[$0]!.durable })
            for node in dirty where n.values.contains(.file(node)) {
                for cut in cuts(node) {
                    out.insert(state(n) { $0 == node ? cut : nodes[$0]!.current })
                }
            }
        }
        return out
    }
}
