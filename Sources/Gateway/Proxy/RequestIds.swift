/// Request ids: 128 bits as 32 hex digits, like NGINX's `$request_id`. They must be
/// unique, not unguessable, so a xorshift generator seeded from the system's random
/// source (once per connection) makes them without a system call each.
struct RequestIds {
    private var state: (UInt64, UInt64)

    init() {
        var system = SystemRandomNumberGenerator()
        state = (system.next() | 1, system.next() | 1)
    }

    private mutating func next64() -> UInt64 {
        // xorshift128+
        var s1 = state.0
        let s0 = state.1
        state.0 = s0
        s1 ^= s1 << 23
        state.1 = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26)
        return state.1 &+ s0
    }

    mutating func next() -> String {
        let digits: StaticString = "0123456789abcdef"
        let (high, low) = (next64(), next64())
        return String(unsafeUninitializedCapacity: 32) { buffer in
            digits.withUTF8Buffer { hex in
                for i in 0..<16 {
                    buffer[i] = hex[Int((high >> (60 - 4 * UInt64(i))) & 0xF)]
                    buffer[16 + i] = hex[Int((low >> (60 - 4 * UInt64(i))) & 0xF)]
                }
            }
            return 32
        }
    }
}
