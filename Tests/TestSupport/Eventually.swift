/// True once `condition` holds (asked every 20 ms), false if it still does not after
/// `timeout`. A condition that throws counts as not holding yet.
public func eventually(timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return (try? await condition()) == true
}
