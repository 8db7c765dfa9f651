import Synchronization

/// Things a test's callback received (deliveries, events), and a way to wait for them.
public final class Collected<Item: Sendable>: Sendable {
    private let items = Mutex<[Item]>([])

    public init() {}

    public func add(_ item: Item) { items.withLock { $0.append(item) } }
    public var all: [Item] { items.withLock { $0 } }

    /// True once `condition` holds, false if it still does not after `timeout`.
    public func wait(timeout: Duration, until condition: @Sendable ([Item]) -> Bool) async -> Bool {
        await eventually(timeout: timeout) { condition(self.all) }
    }
}
