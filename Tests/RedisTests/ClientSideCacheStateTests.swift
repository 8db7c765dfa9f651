@testable import Redis
import Testing

/// The rules of the local copy, without a socket: time is passed in.
@Suite struct ClientSideCacheStateTests {
    let t0 = ContinuousClock.now
    func live(maxAge: Duration = .seconds(10), maxEntries: Int = 100, maxBytes: Int = 1 << 20) -> ClientSideCacheState {
        var state = ClientSideCacheState(maxAge: maxAge, maxEntries: maxEntries, maxBytes: maxBytes)
        state.linkUp()
        return state
    }

    @Test func nothingIsAnsweredOrKeptUntilTheLinkIsUp() {
        var state = ClientSideCacheState(maxAge: .seconds(10), maxEntries: 100, maxBytes: 1 << 20)
        #expect(state.lookup("k", now: t0) == .miss(ticket: nil))
        state.fill("k", [1], ticket: state.generation, now: t0)
        #expect(state.count == 0)
        state.linkUp()
        guard case .miss(let ticket?) = state.lookup("k", now: t0) else { Issue.record("no ticket while live"); return }
        state.fill("k", [1], ticket: ticket, now: t0)
        #expect(state.lookup("k", now: t0) == .hit([1]))
    }

    @Test func anAbsentKeyIsKeptAsAbsent() {
        var state = live()
        guard case .miss(let ticket?) = state.lookup("k", now: t0) else { Issue.record("no ticket"); return }
        state.fill("k", nil, ticket: ticket, now: t0)
        #expect(state.lookup("k", now: t0) == .hit(nil))
    }

    @Test func aReadOvertakenByAnInvalidationOfItsKeyIsNotKept() {
        var state = live()
        guard case .miss(let ticket?) = state.lookup("k", now: t0) else { Issue.record("no ticket"); return }
        // Redis announced a change of the key while the read was under way: what it read may be old.
        state.invalidate(["other", "k", "more"])
        state.fill("k", [1], ticket: ticket, now: t0)
        #expect(state.lookup("k", now: t0) == .miss(ticket: state.generation))

        // Other keys' changes meanwhile do not matter; a flush of everything does.
        guard case .miss(let second?) = state.lookup("k", now: t0) else { Issue.record("no ticket"); return }
        state.invalidate(["other"])
        state.fill("k", [2], ticket: second, now: t0)
        #expect(state.lookup("k", now: t0) == .hit([2]))
        guard case .miss(let third?) = state.lookup("j", now: t0) else { Issue.record("no ticket"); return }
        state.invalidateAll()
        state.fill("j", [3], ticket: third, now: t0)
        #expect(state.count == 0)
    }

    @Test func aReadOlderThanTheRememberedInvalidationsIsNotKept() {
        var state = ClientSideCacheState(maxAge: .seconds(10), maxEntries: 100, maxBytes: 1 << 20, recentLimit: 8)
        state.linkUp()
        guard case .miss(let ticket?) = state.lookup("k", now: t0) else { Issue.record("no ticket"); return }
        for i in 0..<7 { state.invalidate(["other\(i)"]) }
        state.fill("k", [1], ticket: ticket, now: t0)
        #expect(state.lookup("k", now: t0) == .hit([1]), "seven other keys' changes are all remembered")
        guard case .miss(let old?) = state.lookup("j", now: t0) else { Issue.record("no ticket"); return }
        for i in 0..<20 { state.invalidate(["other\(i)"]) }
        state.fill("j", [1], ticket: old, now: t0)
        #expect(state.lookup("j", now: t0) == .miss(ticket: state.generation), "what happened since is forgotten: not kept")
    }

    @Test func invalidationsDropTheirKeysOnly() {
        var state = live()
        for key in ["a", "b"] { state.fill(key, Array(key.utf8), ticket: state.generation, now: t0) }
        state.invalidate(["a"])
        #expect(state.lookup("a", now: t0) == .miss(ticket: state.generation))
        #expect(state.lookup("b", now: t0) == .hit(Array("b".utf8)))
        state.invalidateAll()
        #expect(state.count == 0)
    }

    @Test func entriesLiveAtMostMaxAge() {
        var state = live(maxAge: .seconds(10))
        state.fill("k", [1], ticket: state.generation, now: t0)
        #expect(state.lookup("k", now: t0 + .seconds(9)) == .hit([1]))
        #expect(state.lookup("k", now: t0 + .seconds(10)) == .miss(ticket: state.generation))
        #expect(state.count == 0)
    }

    @Test func goingPastItsBoundsEmptiesTheCache() {
        var byCount = live(maxEntries: 3)
        for key in ["a", "b", "c"] { byCount.fill(key, [1], ticket: byCount.generation, now: t0) }
        #expect(byCount.count == 3)
        byCount.fill("d", [1], ticket: byCount.generation, now: t0)
        #expect(byCount.count == 1)
        #expect(byCount.lookup("d", now: t0) == .hit([1]))

        var byBytes = live(maxBytes: 100)
        byBytes.fill("a", Array(repeating: 0, count: 60), ticket: byBytes.generation, now: t0)
        byBytes.fill("b", Array(repeating: 0, count: 60), ticket: byBytes.generation, now: t0)
        #expect(byBytes.count == 1)
        byBytes.fill("c", Array(repeating: 0, count: 200), ticket: byBytes.generation, now: t0)
        #expect(byBytes.count == 0, "a value over the whole budget is not kept")
        // Replacing a key's value counts its bytes once.
        for _ in 0..<10 { byBytes.fill("a", Array(repeating: 0, count: 60), ticket: byBytes.generation, now: t0) }
        #expect(byBytes.lookup("a", now: t0) == .hit(Array(repeating: 0, count: 60)))
    }

    @Test func aLinkGoingDownDropsEverythingAndStopsAnswers() {
        var state = live()
        state.fill("k", [1], ticket: state.generation, now: t0)
        guard case .miss(let ticket?) = state.lookup("j", now: t0) else { Issue.record("no ticket"); return }
        state.linkDown()
        #expect(state.lookup("k", now: t0) == .miss(ticket: nil))
        state.linkUp()
        state.fill("j", [2], ticket: ticket, now: t0)
        #expect(state.count == 0, "a read sent before the link went down is not kept after it came back")
        #expect(state.lookup("k", now: t0) == .miss(ticket: state.generation))
    }
}

/// The tracking connection's conversation, without a socket.
@Suite struct TrackingLinkTests {
    let t0 = ContinuousClock.now

    func liveLink() -> TrackingLink {
        var link = TrackingLink(prefixes: ["a:", "b:"], name: "n", now: t0)
        _ = link.receive(.status("OK"), now: t0)
        _ = link.receive(.integer(7), now: t0)
        _ = link.receive(.status("OK"), now: t0)
        _ = link.receive(.array([.bulk(Array("subscribe".utf8)), .bulk(Array(TrackingLink.channel.utf8)), .integer(1)]), now: t0)
        return link
    }

    static func message(_ payload: RedisValue) -> RedisValue {
        .array([.bulk(Array("message".utf8)), .bulk(Array(TrackingLink.channel.utf8)), payload])
    }

    @Test func namesItselfTracksThePrefixesTowardsItselfAndSubscribes() {
        var link = TrackingLink(prefixes: ["a:", "b:"], name: "switchboard-profile-cache", now: t0)
        #expect(link.start() == .send(["CLIENT", "SETNAME", "switchboard-profile-cache"]))
        #expect(link.receive(.status("OK"), now: t0) == .send(["CLIENT", "ID"]))
        #expect(link.receive(.integer(42), now: t0) == .send(["CLIENT", "TRACKING", "ON", "REDIRECT", "42", "BCAST", "PREFIX", "a:", "PREFIX", "b:"]))
        #expect(link.receive(.status("OK"), now: t0) == .send(["SUBSCRIBE", TrackingLink.channel]))
        #expect(link.phase == .subscribing)
        #expect(link.receive(.array([.bulk(Array("subscribe".utf8)), .bulk(Array(TrackingLink.channel.utf8)), .integer(1)]), now: t0) == .up)
        #expect(link.phase == .live)
    }

    @Test func invalidationsNameTheirKeysOrEverything() {
        var link = liveLink()
        #expect(link.receive(Self.message(.array([.bulk(Array("a:1".utf8)), .bulk(Array("b:2".utf8))])), now: t0) == .invalidate(["a:1", "b:2"]))
        #expect(link.receive(Self.message(.null), now: t0) == .invalidateAll)
        #expect(link.receive(.array([.bulk(Array("pong".utf8)), .bulk([])]), now: t0) == .nothing)
    }

    @Test func aRefusalOrAnythingUnexpectedClosesTheConnection() {
        var refused = TrackingLink(prefixes: ["a:"], name: "n", now: t0)
        _ = refused.receive(.status("OK"), now: t0)
        _ = refused.receive(.integer(7), now: t0)
        guard case .close = refused.receive(.error("ERR Prefix 'a:' overlaps with an existing prefix"), now: t0) else {
            Issue.record("a refused TRACKING did not close"); return
        }
        #expect(refused.phase == .failed)

        var odd = liveLink()
        guard case .close = odd.receive(.integer(3), now: t0) else { Issue.record("an unexpected reply did not close"); return }
        var wrongChannel = liveLink()
        guard case .close = wrongChannel.receive(.array([.bulk(Array("message".utf8)), .bulk(Array("other".utf8)), .array([])]), now: t0) else {
            Issue.record("a message of another channel did not close"); return
        }
    }

    @Test func itPingsWhileLiveAndGivesUpWhenSilent() {
        var link = liveLink()
        #expect(link.tick(now: t0 + .seconds(1)) == .send(["PING"]))
        _ = link.receive(.array([.bulk(Array("pong".utf8)), .bulk([])]), now: t0 + .seconds(2))
        #expect(link.tick(now: t0 + .milliseconds(4900)) == .send(["PING"]))
        guard case .close = link.tick(now: t0 + .seconds(5)) else { Issue.record("a silent link was kept"); return }

        // One that never gets through its set-up is given up too.
        var stuck = TrackingLink(prefixes: ["a:"], name: "n", now: t0)
        #expect(stuck.tick(now: t0 + .seconds(1)) == .nothing)
        guard case .close = stuck.tick(now: t0 + .seconds(3)) else { Issue.record("a stuck set-up was kept"); return }
    }
}
