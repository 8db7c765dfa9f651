import NIOCore
import NIOHTTP1
import Testing
@testable import Gateway

/// The client connection's state machine on its own: no channel, no clock.
@Suite struct ClientConnectionStateTests {
    final class Request {}
    typealias State = ClientConnectionState<Request>

    static func head(_ uri: String = "/svc/a") -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: uri))
    }

    /// Handles what waited, as the handler does (a head is proxied): the parts handled, and
    /// whether the queue emptied with a held read due.
    static func processQueued(_ state: inout State) -> (handled: [HTTPServerRequestPart], resumeReading: Bool) {
        var handled: [HTTPServerRequestPart] = []
        while true {
            switch state.nextQueued() {
            case .process(let part):
                handled.append(part)
                if part.isHead { state.proxying(Request(), keepAlive: true) }
            case .wait: return (handled, false)
            case .empty(let resumeReading): return (handled, resumeReading)
            }
        }
    }

    @Test func aPipelinedRequestWaitsAndReadsStayStoppedUntilNothingWaits() {
        var state = State()
        #expect(state.received(Self.head()) == .process)
        state.proxying(Request(), keepAlive: true)
        #expect(state.received(.end(nil)) == .process)
        let mayReadBody = state.readRequested()
        #expect(mayReadBody, "one request in progress: the client may send its body")
        for part in [Self.head("/b"), .end(nil), Self.head("/c"), .end(nil)] {
            #expect(state.received(part) == .queued)
        }
        let readWhileQueued = state.readRequested()
        #expect(state.gate == .pipelined && !readWhileQueued, "the first queued part stops reads")
        // The upstream drains and the client turns writable: neither reopens reads while requests wait.
        state.shut(.upstreamFull)
        let upstreamDrained = state.open(.upstreamFull)
        #expect(!upstreamDrained)
        #expect(state.clientWritable(true) == nil)
        let readAfterDrain = state.readRequested()
        #expect(!readAfterDrain)

        #expect(state.requestDone(now: 0, headerTimeout: 5) == (false, 5))
        let forB = Self.processQueued(&state)
        #expect(forB.handled.count == 2 && !forB.resumeReading, "/b and its end, then /c waits for /b")
        let readWhileCWaits = state.readRequested()
        #expect(state.queuedCount == 2 && !readWhileCWaits)
        #expect(state.nextQueued() == .wait)
        _ = state.requestDone(now: 1, headerTimeout: 5)
        let forC = Self.processQueued(&state)
        #expect(forC.handled.count == 2 && forC.resumeReading, "the read held back happens once nothing waits (/c may send its body)")
        let readAfter = state.readRequested()
        #expect(state.gate.isEmpty && readAfter)
        _ = state.requestDone(now: 2, headerTimeout: 5)
        #expect(state.nextQueued() == .empty(resumeReading: false), "no read was held back since")
    }

    @Test func readsResumeOnlyWhenTheLastReasonIsOver() {
        var state = State()
        state.shut(.upstreamFull)
        state.shut(.upstreamPending)
        let beforeAnyRead = state.open(.upstreamFull)
        #expect(!beforeAnyRead, "no read was held back yet")
        state.shut(.upstreamFull)
        let first = state.readRequested(), second = state.readRequested()
        #expect(!first && !second)
        let otherReasonLeft = state.open(.upstreamPending)
        #expect(!otherReasonLeft)
        let lastReasonOver = state.open(.upstreamFull)
        #expect(lastReasonOver, "one held read, given once")
        let givenTwice = state.open(.upstreamFull)
        #expect(!givenTwice)
    }

    /// A random walk over every event, many times: wherever it goes, a queued part means
    /// reads are stopped, so the queue only holds what was read before they stopped.
    @Test func noSequenceOfEventsLetsAClientQueueWhileReading() {
        var random = SplitMix(seed: 0x5eed)
        // The handler's own reasons; `.pipelined` is the state's to give and take.
        let reasons: [State.ReadGate] = [.upstreamFull, .upstreamPending]
        var readsWhileQueued = 0
        for _ in 0..<300 {
            var state = State()
            var readsSinceQueued = 0
            for _ in 0..<200 {
                let before = state.queuedCount
                switch random.next() % 12 {
                case 0: _ = state.received(Self.head())
                case 1: _ = state.received(.body(ByteBuffer(string: "x")))
                case 2: _ = state.received(.end(nil))
                case 3: if state.isIdle { state.proxying(Request(), keepAlive: random.next() % 4 != 0) }
                case 4: _ = state.answering(keepAlive: random.next() % 2 == 0)
                case 5: if state.requestDone(now: 0, headerTimeout: 1).close { state = State() }
                case 6: _ = state.open(reasons[Int(random.next() % 2)])
                case 7: state.shut(reasons[Int(random.next() % 2)])
                case 8: _ = state.clientWritable(random.next() % 2 == 0)
                case 9: if state.readRequested() { readsSinceQueued += state.queuedCount > 0 ? 1 : 0 }
                case 10: _ = Self.processQueued(&state)
                default: if state.quiesce() { state = State() }
                }
                #expect(state.queuedCount == 0 || state.gate.contains(.pipelined))
                if state.queuedCount > before { #expect(state.gate.contains(.pipelined)) }
            }
            readsWhileQueued += readsSinceQueued
        }
        #expect(readsWhileQueued == 0, "no read went through while a request waited")
    }

    @Test func anAnsweredRequestDropsItsBodyAndKeepAliveDecidesWhatFollows() {
        var state = State()
        #expect(state.received(Self.head()) == .process)
        state.proxying(Request(), keepAlive: true)
        state.shut(.upstreamPending)
        let readWhileConnecting = state.readRequested()
        #expect(!readWhileConnecting)
        let bodyDropped = state.answering(keepAlive: true)
        #expect(bodyDropped, "the upstream gave up: the rest of the body is read, to be dropped")
        #expect(state.request == nil && state.keepAlive)
        #expect(state.requestDone(now: 10, headerTimeout: 5) == (false, 15))
        #expect(state.isIdle && state.deadline?.kind == .requestHead)

        _ = state.received(Self.head())
        _ = state.answering(keepAlive: false)
        #expect(state.requestDone(now: 11, headerTimeout: 5) == (true, nil))
        #expect(state.received(Self.head()) == .dropped, "closed: nothing is read any more")
    }

    @Test func aDrainClosesAnIdleConnectionAndEndsABusyOneAfterItsRequest() {
        var idle = State()
        let closesNow = idle.quiesce()
        #expect(closesNow)
        var busy = State()
        _ = busy.received(Self.head())
        busy.proxying(Request(), keepAlive: true)
        #expect(!busy.quiesce() && !busy.keepAlive, "answered with Connection: close")
        #expect(busy.received(Self.head("/next")) == .queued)
        #expect(busy.requestDone(now: 0, headerTimeout: 5).close, "what was pipelined behind it is not taken")
    }

    @Test func oneTimerServesADeadlineMovedLater() {
        var state = State()
        #expect(state.setDeadline(.requestHead, at: 10) == 10)
        _ = state.received(Self.head())
        state.proxying(Request(), keepAlive: true)
        #expect(state.setDeadline(.response, at: 40) == nil, "the timer armed for 10 fires and is armed again")
        #expect(state.timerFired(now: 10) == .rearm(at: 40))
        #expect(state.setDeadline(.response, at: 30) == 30, "an earlier deadline than the armed one arms it anew")
    }

    @Test func deadlinesPassOnlyInThePhaseTheyGuard() {
        var state = State()
        #expect(state.setDeadline(.requestHead, at: 5) == 5)
        #expect(state.timerFired(now: 4) == .rearm(at: 5), "a timer that fires early is armed again")
        #expect(state.timerFired(now: 5) == .passed(.requestHead))
        #expect(state.received(Self.head()) == .dropped, "the idle connection closes")

        var busy = State()
        _ = busy.setDeadline(.requestHead, at: 5)
        _ = busy.received(Self.head())
        busy.proxying(Request(), keepAlive: true)
        #expect(busy.timerFired(now: 6) == .nothing, "the head came: its deadline is over")
        #expect(busy.setDeadline(.response, at: 20) == 20)
        #expect(busy.timerFired(now: 20) == .passed(.response))
        _ = busy.setDeadline(.response, at: 30)
        _ = busy.answering(keepAlive: true)
        #expect(busy.timerFired(now: 31) == .nothing, "answered: no response is awaited")
    }

    @Test func anUpgradeEndsHTTPAndHandsAHeldReadToTheTunnel() {
        var state = State()
        _ = state.received(Self.head())
        state.proxying(Request(), keepAlive: true)
        state.shut(.upstreamPending)
        let readWhilePending = state.readRequested()
        #expect(!readWhilePending)
        let heldReadDue = state.upgraded()
        #expect(heldReadDue)
        #expect(state.gate.isEmpty && state.deadline == nil)
        #expect(state.received(.body(ByteBuffer(string: "frame"))) == .dropped)
    }

    @Test func aSlowClientPausesTheUpstreamOncePerChange() {
        var state = State()
        #expect(state.clientWritable(false) == nil, "no request: nothing to pause")
        _ = state.received(Self.head())
        state.proxying(Request(), keepAlive: true)
        #expect(state.clientWritable(false) == false)
        #expect(state.clientWritable(false) == nil)
        #expect(state.upstreamPaused)
        #expect(state.clientWritable(true) == true)
        _ = state.clientWritable(false)
        _ = state.requestDone(now: 0, headerTimeout: 1)
        #expect(!state.upstreamPaused, "the handler resumed it before pooling")
    }
}

/// A small seeded generator: the walk is the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}


extension ClientConnectionState.Queued: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.wait, .wait): true
        case (.empty(let x), .empty(let y)): x == y
        case (.process(let x), .process(let y)): x == y
        default: false
        }
    }
}
