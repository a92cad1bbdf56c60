import Foundation
import Synchronization

/// Messages waiting to be delivered (docs/reports.md): one small JSON file each in `<data-dir>/outbox/`,
/// written atomically before delivery is tried and removed once delivered (or given up after a day), so a
/// restart loses none and sends none twice unless it stopped mid-delivery.
final class Outbox: Sendable {
    struct Message: Codable, Sendable, Equatable {
        enum Channel: String, Codable, Sendable { case webhook, email }
        var channel: Channel
        /// `daily_summary`, `weekly_summary`, `alert_started`, `alert_cleared`.
        var kind: String
        var site: String
        /// The webhook URL (webhook) or the recipients (email).
        var url: String?
        var to: [String]?
        /// The JSON body (webhook) or the plain text (email).
        var body: String
        var subject: String?
        var html: String?
        /// Epoch ms.
        var created: Int64
        var attempts = 0
        var next: Int64
    }

    static let maxAgeMs: Int64 = Milliseconds.day
    let directory: String
    private let sequence = Atomic<Int>(0)

    init(dataDirectory: String) {
        directory = (dataDirectory as NSString).appendingPathComponent("outbox")
    }

    /// Stores a message durably; it is delivered from the file.
    func enqueue(_ message: Message) throws {
        try FileSystem.makeDirectory(directory)
        let n = sequence.add(1, ordering: .relaxed).newValue
        let name = String(format: "%013lld-%06d.json", message.created, n % 1_000_000)
        try FileSystem.writeAtomically(directory + "/" + name, Array(try JSONEncoder().encode(message)))
    }

    /// Every stored message, oldest first, with its file name; unreadable files are skipped (and left for a person).
    func pending() -> [(name: String, message: Message)] {
        FileSystem.list(directory).filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                let message = try? JSONDecoder().decode(Message.self, from: data)
            else { return nil }
            return (name, message)
        }
    }

    func update(_ name: String, _ message: Message) throws {
        try FileSystem.writeAtomically(directory + "/" + name, Array(try JSONEncoder().encode(message)))
    }

    func remove(_ name: String) {
        try? FileSystem.unlink(directory + "/" + name)
        try? FileSystem.fsyncDirectory(directory)
    }
}
