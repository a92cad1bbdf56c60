import Foundation

/// Applies durable batches to the day index and the event table on a thread of its own, so the commit thread only commits:
/// the writer hands each commit over (an append to a queue) before it acknowledges it.
///
/// What a reader sees: `caughtUp()` returns once every commit handed over before the call is applied,
/// so an answer includes every batch acknowledged before the request began (read-your-writes).
///
/// The queue is bounded: while more than `maxQueuedEvents` events wait to be applied, the commit thread waits
/// before handing over the next commit (and so before acknowledging it), so a daemon whose applier cannot keep
/// up slows its acknowledgements to the applier's pace instead of holding an ever longer queue of lines.
///
/// `@unchecked Sendable`: every mutable field is guarded by `condition`.
public final class IndexApplier: CommitObserver, @unchecked Sendable {
    struct Commit {
        var batches: [DecodedBatch]
        var position: LogPosition
    }

    let index: DayIndex
    let table: EventTable
    private let condition = NSCondition()
    private var queue: [Commit] = []
    /// Events handed over and not yet applied (the ones being applied included).
    private var queuedEvents = 0
    let maxQueuedEvents: Int
    private var handedOver: UInt64 = 0
    private var applied: UInt64 = 0
    private var waiters: [(target: UInt64, done: CheckedContinuation<Void, Never>)] = []
    private var closing = false
    private var finished = false

    /// At most this many events wait to be applied: about 0.1 s of the applier's work, some 40 MB of lines.
    public static let maxQueuedEventsDefault = 1 << 17

    /// Starts the applier's thread.
    public init(index: DayIndex, table: EventTable, maxQueuedEvents: Int = maxQueuedEventsDefault) {
        self.index = index
        self.table = table
        self.maxQueuedEvents = maxQueuedEvents
        let thread = Thread(named: "index-applier") { [self] in loop() }
        thread.start()
    }

    /// Called by the commit thread; returns at once unless the queue is full, then once the applier has caught up
    /// enough.
    public func committed(_ batches: [DecodedBatch], through position: LogPosition) {
        let events = batches.reduce(0) { $0 + $1.records.count }
        condition.lock()
        while queuedEvents > 0 && queuedEvents + events > maxQueuedEvents && !finished { condition.wait() }
        queuedEvents += events
        queue.append(Commit(batches: batches, position: position))
        handedOver += 1
        if queue.count == 1 { condition.signal() }
        condition.unlock()
    }

    /// Returns once every commit handed over before this call is in the index.
    public func caughtUp() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            condition.lock()
            if applied >= handedOver || finished {
                condition.unlock()
                done.resume()
                return
            }
            waiters.append((handedOver, done))
            condition.unlock()
        }
    }

    /// Blocks until every commit handed over so far is applied (erasure and shutdown, with the writer paused).
    public func drain() {
        condition.lock()
        let target = handedOver
        while applied < target && !finished { condition.wait() }
        condition.unlock()
    }

    /// Applies what is queued, then stops the thread.
    public func close() {
        condition.lock()
        closing = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !closing { condition.wait() }
            let work = queue
            queue = []
            condition.unlock()
            if work.isEmpty { break }
            index.apply(work)
            table.apply(work)
            condition.lock()
            applied += UInt64(work.count)
            queuedEvents -= work.reduce(0) { total, commit in commit.batches.reduce(total) { $0 + $1.records.count } }
            let ready = waiters.filter { $0.target <= applied }
            waiters.removeAll { $0.target <= applied }
            condition.broadcast()
            condition.unlock()
            for waiter in ready { waiter.done.resume() }
        }
        condition.lock()
        finished = true
        let rest = waiters
        waiters = []
        condition.broadcast()
        condition.unlock()
        for waiter in rest { waiter.done.resume() }
    }
}
