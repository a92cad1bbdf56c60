/// The public endpoint's work without HTTP: decode, drop repeats, store durably.
public struct EventIngestor: Sendable {
    public struct Outcome: Sendable, Equatable {
        public var logged: Int
        public var ignored: Int
        public var duplicates: Int
        public var bots = 0
        public var rejected: [DecodedBatch.Rejection]
    }

    let decoder = EventDecoder()
    let writer: SegmentWriter
    let dedup: DedupCache
    let now: @Sendable () -> Int64
    let stats: IngestStats

    public init(writer: SegmentWriter, dedup: DedupCache, stats: IngestStats, now: @escaping @Sendable () -> Int64) {
        self.writer = writer
        self.dedup = dedup
        self.stats = stats
        self.now = now
    }

    /// A decoded batch whose new ids are reserved; store it or the ids stay reserved.
    public struct Prepared: Sendable {
        var batch: DecodedBatch
        var reserved: [UInt64]
    }

    /// Decodes `body`; throws `BatchError` for a refused body.
    public func decode(
        _ body: UnsafeBufferPointer<UInt8>, dimensions: RequestDimensions = .none, schemas: EventSchemas? = nil
    ) throws(BatchError) -> DecodedBatch {
        do {
            return try decoder.decode(body, receivedAt: now(), dimensions: dimensions, schemas: schemas)
        } catch {
            stats.count(rejected: max(1, error.rejected.count))
            throw error
        }
    }

    /// Decodes `body` and sets repeats aside; throws `BatchError` for a refused body.
    public func prepare(_ body: UnsafeBufferPointer<UInt8>, dimensions: RequestDimensions = .none) throws(BatchError) -> Prepared {
        prepare(try decode(body, dimensions: dimensions))
    }

    /// Sets a decoded batch's repeats aside (this site's dedup window) and reserves its new ids.
    public func prepare(_ decoded: DecodedBatch) -> Prepared {
        var batch = decoded
        let (duplicates, reserved) = dedup.reserve(batch, now: batch.receivedAt)
        batch.remove(indices: duplicates)
        batch.duplicates = duplicates.count
        return Prepared(batch: batch, reserved: reserved)
    }

    /// Appends the batch durably; throws `StorageError` when the log failed, and then nothing is stored.
    public func store(_ prepared: Prepared) async throws -> Outcome {
        let batch = prepared.batch
        do {
            try await writer.append(batch)
        } catch {
            dedup.release(prepared.reserved)
            throw error
        }
        stats.count(accepted: batch.records.count, ignored: batch.ignored, duplicates: batch.duplicates, rejected: batch.rejected.count)
        return Outcome(logged: batch.records.count, ignored: batch.ignored, duplicates: batch.duplicates, bots: batch.bots, rejected: batch.rejected)
    }

    /// `prepare` then `store`.
    public func ingest(_ body: [UInt8], dimensions: RequestDimensions = .none) async throws -> Outcome {
        let prepared = try body.withUnsafeBufferPointer { b throws(BatchError) in try prepare(b, dimensions: dimensions) }
        return try await store(prepared)
    }
}
