import Foundation
import SocketIO
import Testing

/// The wire formats, as pure functions.
@Suite struct PacketCodecTests {
    @Test func jsonKeepsKeyOrderAndWritesLikeJavaScript() throws {
        let text = #"{"3":[true],"a":{"z":1,"b":-2.5,"e":1e3},"s":"q\"\\\n\u00e9\ud83d\ude00","n":null}"#
        let value = try JSONValue.parse(text)
        #expect(value.serialized() == #"{"3":[true],"a":{"z":1,"b":-2.5,"e":1000},"s":"q\"\\\n\#u{e9}\#u{1F600}","n":null}"#)
        for bad in ["", "{", #"{"a"}"#, "[1,]", "01x", #""\x""#, "tru", "[1] 2", String(repeating: "[", count: 100) + String(repeating: "]", count: 100)] {
            #expect(throws: JSONValue.ParseError.self, "\(bad)") { _ = try JSONValue.parse(bad) }
        }
    }

    /// A repeated key keeps its first place and takes its last value, as JSON.parse does, in
    /// small objects (searched) and large ones (indexed) alike.
    @Test func aRepeatedKeyKeepsItsFirstPlaceAndTakesItsLastValue() throws {
        for size in [3, 16, 17, 40, 5_000] {
            let keys = (0..<size).map { "k\($0)" }
            var text = "{" + keys.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",")
            text += ",\"k1\":\"again\",\"k\(size - 1)\":\"last\",\"k1\":\"once more\"}"
            guard case .object(let members) = try JSONValue.parse(text) else { Issue.record("not an object"); continue }
            #expect(members.map(\.0) == keys, "\(size) keys, each once, in first-seen order")
            #expect(members[1].1 == "once more" && members[size - 1].1 == "last" && members[0].1 == 0, "\(size) keys")
        }
    }

    @Test func enginePayloadsSplitAndJoin() throws {
        let packets = try EnginePacket.decode(payload: "4hello\u{1e}bAQIDBA==\u{1e}2\u{1e}3probe\u{1e}1")
        #expect(packets == [.message(.text("hello")), .message(.binary(Data([1, 2, 3, 4]))), .ping(""), .pong("probe"), .close])
        #expect(EnginePacket.encode(payload: packets) == "4hello\u{1e}bAQIDBA==\u{1e}2\u{1e}3probe\u{1e}1")
        #expect(throws: EnginePacket.DecodeError.invalidPacket) { _ = try EnginePacket.decode(payload: "abc") }
        #expect(throws: EnginePacket.DecodeError.invalidPacket) { _ = try EnginePacket.decode(payload: "4a\u{1e}\u{1e}4b") }
        #expect(throws: EnginePacket.DecodeError.invalidBase64) { _ = try EnginePacket.decode(payload: "b!!!") }
    }

    @Test func socketPacketsRoundTrip() throws {
        let cases: [(String, SocketPacket, Int)] = [
            ("0", SocketPacket(.connect), 0),
            (#"0/custom,{"token":"abc"}"#, SocketPacket(.connect, namespace: "/custom", payload: ["token": "abc"]), 0),
            ("1/custom,", SocketPacket(.disconnect, namespace: "/custom"), 0),
            (#"2["message",1,"2",{"3":[true]}]"#, SocketPacket(.event, payload: ["message", 1, "2", ["3": [true]]]), 0),
            (#"2456["message-with-ack"]"#, SocketPacket(.event, ackId: 456, payload: ["message-with-ack"]), 0),
            (#"3/chat,7[null]"#, SocketPacket(.ack, namespace: "/chat", ackId: 7, payload: [nil]), 0),
            (#"52-789["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
             SocketPacket(.binaryEvent, ackId: 789, payload: ["m", ["_placeholder": true, "num": 0], ["_placeholder": true, "num": 1]]), 2),
        ]
        for (text, packet, attachments) in cases {
            let decoded = try SocketPacket.decode(text)
            #expect(decoded.packet == packet && decoded.attachments == attachments, "\(text)")
        }
        // Binary values go out as placeholders plus frames, and come back in place.
        let outgoing = SocketPacket(.event, namespace: "/x", payload: ["file", ["name": "a", "bytes": .binary(Data([9, 8]))], .binary(Data([7]))])
        let (text, frames) = outgoing.encode()
        #expect(text == #"52-/x,["file",{"name":"a","bytes":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]"#)
        #expect(frames == [Data([9, 8]), Data([7])])
        var incoming = try SocketPacket.decode(text).packet
        try incoming.attach(frames)
        #expect(incoming.payload == outgoing.payload)
    }

    @Test func malformedSocketPacketsAreRefused() {
        let bad: [(String, SocketPacket.DecodeError)] = [
            ("", .invalidType), ("9", .invalidType), ("abc", .invalidType),
            ("2{}", .invalidPayload), ("2[]", .invalidPayload), ("2[1]", .invalidPayload), (#"2abc["m"]"#, .invalidPayload),
            ("0[1]", .invalidPayload), (#"1{"a":1}"#, .invalidPayload), ("3[1]", .invalidAckId), ("35{}", .invalidPayload),
            (#"4{"message":"x"}"#, .invalidType), (#"5["m"]"#, .invalidAttachments), (#"50-["m"]"#, .invalidAttachments),
            ("2999999999999999999[\"m\"]", .invalidAckId),
        ]
        for (text, error) in bad {
            #expect(throws: error, "\(text)") { _ = try SocketPacket.decode(text) }
        }
        var packet = SocketPacket(.binaryEvent, payload: ["m", ["_placeholder": true, "num": 3]])
        #expect(throws: SocketPacket.DecodeError.invalidAttachment) { try packet.attach([Data([1])]) }
    }
}
