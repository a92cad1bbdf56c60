extension Array {
    /// `init(unsafeUninitializedCapacity:initializingWith:)` that never writes into the standard library's shared
    /// empty-array storage: with a capacity of 0 it stores the count (0) into that one global, and two threads
    /// doing so at once is a data race ThreadSanitizer reports (the table queries build arrays on two threads).
    init(unsharedCapacity capacity: Int, initializingWith body: (inout UnsafeMutableBufferPointer<Element>, inout Int) throws -> Void) rethrows {
        try self.init(unsafeUninitializedCapacity: Swift.max(capacity, 1), initializingWith: body)
    }
}
