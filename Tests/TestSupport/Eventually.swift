/// True once `condition` holds (asked every 20 ms), false if it still does not after
/// `timeout`. A condition that throws counts as not holding yet.
public func eventually(timeout: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    // A cancelled task's sleeps return at once: stop asking rather than spin a core.
    while ContinuousClock.now < deadline, !Task.isCancelled {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return (try? await condition()) == true
}

/// `count` random bytes, eight from each draw of a seeded generator: drawing one byte at a
/// time from the system's (a syscall each) kept a core busy for seconds per megabyte.
public func randomBytes(_ count: Int) -> [UInt8] {
    var state = UInt64.random(in: 0...UInt64.max)
    var bytes = [UInt8]()
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
        // SplitMix64.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        withUnsafeBytes(of: z) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
}
