@testable import Chat
import SocketIO
import Testing

/// The flood rules and the typing throttle, with time passed in.
@Suite struct SocketLimitsTests {
    @Test func aBucketAllowsItsBurstThenItsRate() {
        var bucket = TokenBucket(rate: 20, burst: 40, now: 0)
        var allowed = 0
        for _ in 0..<50 where bucket.take(now: 0) { allowed += 1 }
        #expect(allowed == 40, "the burst at once, nothing more")
        let r1 = bucket.take(now: 0.04)
        #expect(!r1, "a token takes 50 ms to come back")
        let r2 = bucket.take(now: 0.06)
        #expect(r2)
        allowed = 0
        for _ in 0..<100 where bucket.take(now: 10) { allowed += 1 }
        #expect(allowed == 40, "ten idle seconds save no more than the burst")
        let r3 = bucket.take(now: 9)
        #expect(!r3, "time going backwards gives nothing")
    }

    @Test func aSocketAndItsUserAreLimitedTogether() {
        var state = FloodState(limits: FloodLimits(socketEventsPerSecond: 1, socketEventBurst: 3, userEventsPerSecond: 1, userEventBurst: 4, socketsPerUser: 2))
        let admitted = [state.admit(socket: "s1", user: "ada", now: 0), state.admit(socket: "s2", user: "ada", now: 0),
                        state.admit(socket: "s3", user: "ada", now: 0), state.admit(socket: "b1", user: "bob", now: 0)]
        #expect(admitted == [true, true, false, true], "two sockets is the cap, per user")
        state.disconnected(socket: "b1", user: "bob")
        var first = 0, second = 0
        for _ in 0..<5 where state.allows(socket: "s1", user: "ada", now: 0) { first += 1 }
        for _ in 0..<5 where state.allows(socket: "s2", user: "ada", now: 0) { second += 1 }
        #expect(first == 3, "the socket's burst")
        #expect(second == 1, "the user's burst (4) is shared by both sockets")
        let r4 = state.allows(socket: "unknown", user: "ada", now: 0)
        #expect(!r4, "a socket not counted sends nothing")
        state.disconnected(socket: "s1", user: "ada")
        let again = state.admit(socket: "s4", user: "ada", now: 0)
        #expect(again, "a closed socket frees its place")
        state.disconnected(socket: "s1", user: "ada")
        state.disconnected(socket: "s2", user: "ada")
        state.disconnected(socket: "s4", user: "ada")
        #expect(state.users.isEmpty && state.sockets.isEmpty, "nothing is kept for users who left (closing twice counts once)")
    }

    @Test func typingIsRelayedOncePerIntervalAndAStopOnlyAfterAStart() {
        var throttle = TypingThrottle(interval: 2)
        let r5 = throttle.relaysStop(user: "ada", chat: "c")
        #expect(!r5, "no start relayed, no stop")
        let r6 = throttle.relaysStart(user: "ada", chat: "c", now: 0)
        #expect(r6)
        let r7 = throttle.relaysStart(user: "ada", chat: "c", now: 1.9)
        #expect(!r7, "within the interval: held back")
        let r8 = throttle.relaysStart(user: "ada", chat: "d", now: 1.9)
        #expect(r8, "another chat is another indicator")
        let r9 = throttle.relaysStart(user: "ada", chat: "c", now: 2.1)
        #expect(r9)
        let r10 = throttle.relaysStop(user: "ada", chat: "c")
        #expect(r10)
        let r11 = throttle.relaysStart(user: "ada", chat: "c", now: 2.2)
        #expect(r11, "after a stop, the next start goes at once")
    }

    @Test func typingCrossesReplicasAsARoomEvent() throws {
        let event = RoomEvent.typing(chatId: "c", userId: "ada", started: false)
        #expect(RoomEvent(json: try JSONValue.parse(event.json.serialized())) == event)
        #expect(RoomEvent(json: ["type": "typing", "chatId": "c"]) == nil, "no user, no event")
    }

    @Test func aUsersTabsOnAReplicaCountAsOnePresence() {
        var local = LocalPresence()
        let changes = [local.opened(user: "ada"), local.opened(user: "ada"), local.closed(user: "ada"), local.closed(user: "ada"), local.closed(user: "ada")]
        #expect(changes == [.arrived("ada"), nil, nil, .departed("ada"), nil], "the first tab arrives, the last departs, an extra close is nothing")
        #expect(local.sockets.isEmpty)
    }
}
