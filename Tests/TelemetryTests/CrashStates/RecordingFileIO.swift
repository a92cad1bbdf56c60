import Foundation
import Synchronization
@testable import Telemetry

#if canImport(Glibc)
import Glibc
#endif

/// One step a workload took on the disk, in the order the calls returned. Paths are relative to the data
/// directory ("" is the directory itself); files are named by the recorder's own node numbers, which unlike
/// inode numbers are never reused.
enum DiskOp: Equatable, CustomStringConvertible {
    /// A name added to a directory: a new file (`node`) or a new directory (`node == nil`).
    case create(directory: String, name: String, node: Int?)
    case write(node: Int, offset: Int, bytes: [UInt8])
    case truncate(node: Int, length: Int)
    /// `fsync` or `fdatasync` of a file: its contents (and size) are durable.
    case sync(node: Int, dataOnly: Bool)
    /// `fsync` of a directory: every name change in it is durable.
    case syncDirectory(String)
    case rename(directory: String, from: String, to: String)
    case unlink(directory: String, name: String)
    /// The workload was told these events were stored: from here on they must survive a crash.
    case acknowledged([String])
    /// The workload is about to remove these events on purpose (erasure, retention): from here on they may be gone.
    case removable([String])

    var description: String {
        switch self {
        case let .create(d, n, node): "create \(d)/\(n)\(node.map { " #\($0)" } ?? " (dir)")"
        case let .write(node, offset, bytes): "write #\(node) @\(offset) +\(bytes.count)"
        case let .truncate(node, length): "truncate #\(node) to \(length)"
        case let .sync(node, dataOnly): "\(dataOnly ? "fdatasync" : "fsync") #\(node)"
        case let .syncDirectory(d): "fsync dir \(d.isEmpty ? "." : d)"
        case let .rename(d, from, to): "rename \(d)/\(from) -> \(to)"
        case let .unlink(d, n): "unlink \(d)/\(n)"
        case let .acknowledged(ids): "ack \(ids.count)"
        case let .removable(ids): "removable \(ids.count)"
        }
    }

    var touchesDisk: Bool {
        switch self {
        case .acknowledged, .removable: false
        default: true
        }
    }
}

/// A `FileIO` that does every call on the real file system and records those under `root` as `DiskOp`s.
final class RecordingFileIO: FileIO, Sendable {
    let root: String
    private let posix = PosixFileIO()
    private struct State {
        var ops: [DiskOp] = []
        var nextNode = 0
        /// Real inode number to node, for the files that exist now.
        var nodes: [UInt64: Int] = [:]
        /// Open descriptors under `root`: the node, or the directory's relative path.
        var files: [Int32: Int] = [:]
        var directories: [Int32: String] = [:]

        mutating func append(_ op: DiskOp, omitting: (DiskOp) -> Bool) {
            if !omitting(op) { ops.append(op) }
        }
    }
    private let state = Locked(State())
    /// The contents every node had when recording started (the durable starting state).
    let initial: [String: InitialEntry]

    enum InitialEntry: Equatable {
        case file(node: Int, bytes: [UInt8])
        case directory
    }

    /// Calls the recorder leaves out of the trace, as if the code had never made them: the explorer's own test
    /// drops an fsync to see that the states it generates then lose acknowledged events.
    let omitting: @Sendable (DiskOp) -> Bool

    /// Starts recording under `root`, taking what is there now as durable.
    init(root: String, omitting: @escaping @Sendable (DiskOp) -> Bool = { _ in false }) {
        self.omitting = omitting
        let root = (root as NSString).standardizingPath
        self.root = root
        var initial: [String: InitialEntry] = [:]
        var s = State()
        func scan(_ relative: String) {
            let path = relative.isEmpty ? root : root + "/" + relative
            for name in FileSystem.list(path).sorted() {
                let rel = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard lstat(root + "/" + rel, &st) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    initial[rel] = .directory
                    scan(rel)
                } else if (st.st_mode & S_IFMT) == S_IFREG {
                    let node = s.nextNode
                    s.nextNode += 1
                    s.nodes[UInt64(st.st_ino)] = node
                    initial[rel] = .file(node: node, bytes: (try? FileSystem.readAll(root + "/" + rel)) ?? [])
                }
            }
        }
        scan("")
        self.initial = initial
        state.withLock { $0 = s }
    }

    var ops: [DiskOp] { state.withLock { $0.ops } }

    func record(_ op: DiskOp) { state.withLock { $0.append(op, omitting: omitting) } }

    /// `path` relative to `root`, or nil for a path outside it (the lock file's directory is inside; /tmp is not).
    private func relative(_ path: String) -> String? {
        let standard = (path as NSString).standardizingPath
        if standard == root { return "" }
        guard standard.hasPrefix(root + "/") else { return nil }
        return String(standard.dropFirst(root.count + 1))
    }

    private static func split(_ relative: String) -> (String, String) {
        let directory = (relative as NSString).deletingLastPathComponent
        return (directory, (relative as NSString).lastPathComponent)
    }

    private func inode(_ path: String) -> UInt64? {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    func open(_ path: String, flags: Int32, mode: mode_t) -> Int32 {
        guard let rel = relative(path) else { return posix.open(path, flags: flags, mode: mode) }
        return state.withLock { s in
            let existed = inode(path) != nil
            let fd = posix.open(path, flags: flags, mode: mode)
            guard fd >= 0 else { return fd }
            var st = stat()
            fstat(fd, &st)
            if (st.st_mode & S_IFMT) == S_IFDIR {
                s.directories[fd] = rel
                return fd
            }
            let ino = UInt64(st.st_ino)
            if !existed {
                let node = s.nextNode
                s.nextNode += 1
                s.nodes[ino] = node
                let (directory, name) = Self.split(rel)
                s.append(.create(directory: directory, name: name, node: node), omitting: omitting)
            } else if flags & O_TRUNC != 0, let node = s.nodes[ino] {
                s.append(.truncate(node: node, length: 0), omitting: omitting)
            }
            if let node = s.nodes[ino] { s.files[fd] = node }
            return fd
        }
    }

    func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
        state.withLock { s in
            let n = posix.write(fd, bytes)
            if n > 0, let node = s.files[fd] {
                let end = Int(lseek(fd, 0, SEEK_CUR))
                s.append(.write(node: node, offset: end - n, bytes: Array(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))), omitting: omitting)
            }
            return n
        }
    }

    func datasync(_ fd: Int32) -> Int32 { sync(fd, dataOnly: true) }

    func sync(_ fd: Int32) -> Int32 { sync(fd, dataOnly: false) }

    private func sync(_ fd: Int32, dataOnly: Bool) -> Int32 {
        state.withLock { s in
            let e = dataOnly ? posix.datasync(fd) : posix.sync(fd)
            if e == 0 {
                if let node = s.files[fd] { s.append(.sync(node: node, dataOnly: dataOnly), omitting: omitting) }
                if let directory = s.directories[fd] { s.append(.syncDirectory(directory), omitting: omitting) }
            }
            return e
        }
    }

    func truncate(_ fd: Int32, to length: Int) -> Int32 {
        state.withLock { s in
            let e = posix.truncate(fd, to: length)
            if e == 0, let node = s.files[fd] { s.append(.truncate(node: node, length: length), omitting: omitting) }
            return e
        }
    }

    func close(_ fd: Int32) {
        state.withLock { s in
            s.files[fd] = nil
            s.directories[fd] = nil
            posix.close(fd)
        }
    }

    func rename(_ from: String, _ to: String) -> Int32 {
        guard let relFrom = relative(from), let relTo = relative(to) else { return posix.rename(from, to) }
        return state.withLock { s in
            let e = posix.rename(from, to)
            if e == 0 {
                let (directory, fromName) = Self.split(relFrom)
                let (toDirectory, toName) = Self.split(relTo)
                precondition(directory == toDirectory, "renames stay in one directory")
                s.append(.rename(directory: directory, from: fromName, to: toName), omitting: omitting)
            }
            return e
        }
    }

    func unlink(_ path: String) -> Int32 {
        guard let rel = relative(path) else { return posix.unlink(path) }
        return state.withLock { s in
            let e = posix.unlink(path)
            if e == 0 {
                let (directory, name) = Self.split(rel)
                s.append(.unlink(directory: directory, name: name), omitting: omitting)
            }
            return e
        }
    }

    func makeDirectory(_ path: String) -> Int32 {
        guard let rel = relative(path) else { return posix.makeDirectory(path) }
        return state.withLock { s in
            let e = posix.makeDirectory(path)
            if e == 0 {
                let (directory, name) = Self.split(rel)
                s.append(.create(directory: directory, name: name, node: nil), omitting: omitting)
            }
            return e
        }
    }
}
