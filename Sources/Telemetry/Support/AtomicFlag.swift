import Synchronization

/// A flag one thread sets and others poll (a stop request, a cancelled scan).
public final class AtomicFlag: Sendable {
    private let value = Atomic<Bool>(false)

    public init() {}

    public func set() { value.store(true, ordering: .relaxed) }

    public var isSet: Bool { value.load(ordering: .relaxed) }
}
