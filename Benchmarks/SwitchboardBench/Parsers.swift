import Foundation
import NIOCore
import NIOWebSocket
import ServiceKit
import SocketIO

/// `SwitchboardBench parsers`: every parser of client input against inputs built to be slow,
/// each up to its size limit (a Socket.IO packet, polling payload or WebSocket message:
/// 1 MB, the engine's maxHttpBufferSize; a multipart upload: 5 MB). A parser linear in its
/// input takes milliseconds on any of them; the bar is 50 ms for 1 MB. Prints a table, and returns
/// false when a case is over its bar.
enum ParserBench {
    struct Case {
        let parser: String
        let input: String
        let bytes: Int
        /// Parses once; throwing is fine (refusing fast is what a parser should do with most of these).
        let run: () -> Void
    }

    static let megabyte = 1_000_000

    /// `count` copies of `unit` between `open` and `close`, separated by `separator`, at most `limit` bytes.
    static func repeated(_ unit: (Int) -> String, open: String, close: String, separator: String = ",", limit: Int = megabyte) -> String {
        var text = open
        var i = 0
        while true {
            let next = (i == 0 ? "" : separator) + unit(i)
            if text.utf8.count + next.utf8.count + close.utf8.count > limit { break }
            text += next
            i += 1
        }
        return text + close
    }

    static func json(_ name: String, _ text: String) -> Case {
        let bytes = Array(text.utf8)
        return Case(parser: "JSON (Socket.IO payloads)", input: name, bytes: bytes.count) { _ = try? JSONValue.parse(bytes) }
    }

    static func cases() -> [Case] {
        var cases: [Case] = []
        cases.append(json("object of distinct short keys", repeated({ "\"\($0)\":0" }, open: "{", close: "}")))
        cases.append(json("object of one key repeated", repeated({ _ in "\"a\":0" }, open: "{", close: "}")))
        cases.append(json("objects of 17 keys (each indexed)", repeated({ i in "{" + (0..<17).map { "\"\($0)\":\(i)" }.joined(separator: ",") + "}" }, open: "[", close: "]")))
        cases.append(json("array of zeros", repeated({ _ in "0" }, open: "[", close: "]")))
        cases.append(json("string of \\u escapes", repeated({ _ in "\\u0041" }, open: "\"", close: "\"", separator: "")))
        cases.append(json("string of surrogate pairs", repeated({ _ in "\\ud83d\\ude00" }, open: "\"", close: "\"", separator: "")))
        cases.append(json("number of a million digits", repeated({ _ in "7" }, open: "", close: "", separator: "")))
        cases.append(json("number with a million-digit fraction", repeated({ _ in "3" }, open: "0.", close: "", separator: "")))
        cases.append(json("nesting to the depth limit, repeated", repeated({ _ in String(repeating: "[", count: 63) + String(repeating: "]", count: 63) }, open: "[", close: "]")))
        cases.append(json("nesting past the limit (refused)", String(repeating: "[", count: megabyte)))
        cases.append(json("unterminated string", "\"" + String(repeating: "a", count: megabyte - 1)))

        let event = "42[\"sendMessage\"," + repeated({ "\"\($0)\":\"x\"" }, open: "{", close: "}", limit: megabyte - 20) + "]"
        cases.append(Case(parser: "Socket.IO packet", input: "event whose argument has distinct keys", bytes: event.utf8.count) { _ = try? SocketPacket.decode(event) })
        let connect = "0" + repeated({ "\"\($0)\":\($0)" }, open: "{", close: "}", limit: megabyte - 1)
        cases.append(Case(parser: "Socket.IO packet", input: "CONNECT whose auth has distinct keys", bytes: connect.utf8.count) { _ = try? SocketPacket.decode(connect) })
        let payload = repeated({ _ in "4x" }, open: "", close: "", separator: "\u{1e}")
        cases.append(Case(parser: "Engine.IO polling payload", input: "packets of one byte", bytes: payload.utf8.count) { _ = try? EnginePacket.decode(payload: payload) })
        let binary = repeated({ _ in "bAA==" }, open: "", close: "", separator: "\u{1e}")
        cases.append(Case(parser: "Engine.IO polling payload", input: "base64 packets of one byte", bytes: binary.utf8.count) { _ = try? EnginePacket.decode(payload: binary) })
        // A WebSocket message of 1 MB on the wire cut into one-byte fragments (7 bytes each:
        // header, mask, payload), joined by the reader the Socket.IO WebSocket uses.
        let key = WebSocketMaskingKey([1, 2, 3, 4])!
        let fragments = (0..<(megabyte / 7)).map { i in
            WebSocketFrame(fin: i == megabyte / 7 - 1, opcode: i == 0 ? .text : .continuation, maskKey: key, data: ByteBuffer(bytes: [0x34 ^ 1]))
        }
        cases.append(Case(parser: "WebSocket message", input: "one-byte fragments", bytes: fragments.count * 7) {
            var reader = WebSocketFrameReader(maxPayload: megabyte)
            for fragment in fragments { _ = reader.receive(fragment) }
        })

        // Multipart: up to the 5 MB upload limit, a boundary of the longest length (70).
        let boundary = String(repeating: "b", count: 70)
        let upload = 5 * megabyte
        let nearMisses = Array(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n"
                                + String(repeating: "\r\n--" + String(repeating: "b", count: 69) + "x", count: upload / 75)
                                + "\r\n--" + boundary + "--").utf8)
        cases.append(Case(parser: "multipart/form-data", input: "5 MB of near-miss boundaries", bytes: nearMisses.count) { _ = try? Multipart.parse(nearMisses, boundary: boundary) })
        let manyParts = Array((String(repeating: "--" + boundary + "\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n", count: 1000) + "--" + boundary + "--").utf8)
        cases.append(Case(parser: "multipart/form-data", input: "parts past the limit (refused)", bytes: manyParts.count) { _ = try? Multipart.parse(manyParts, boundary: boundary) })
        let headerless = Array(("--" + boundary + "\r\n" + String(repeating: "h", count: upload)).utf8)
        cases.append(Case(parser: "multipart/form-data", input: "part headers that never end", bytes: headerless.count) { _ = try? Multipart.parse(headerless, boundary: boundary) })
        return cases
    }

    /// Median of `rounds` timed parses, in milliseconds.
    static func time(_ run: () -> Void, rounds: Int) -> Double {
        run()  // warm up
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            run()
            times.append((ContinuousClock.now - start) / .milliseconds(1))
        }
        return times.sorted()[times.count / 2]
    }

    static func run(rounds: Int) -> Bool {
        print("Parsers of client input on inputs built to be slow (release build; median of \(rounds) parses each; bar: 50 ms per MB)")
        print("| parser | input | bytes | ms | MB/s | within the bar |")
        print("|---|---|---|---|---|---|")
        var allWithin = true
        for item in cases() {
            let ms = time(item.run, rounds: rounds)
            let bar = 50 * max(1, Double(item.bytes) / Double(megabyte))
            let within = ms <= bar
            allWithin = allWithin && within
            print(String(format: "| %@ | %@ | %d | %.2f | %.0f | %@ |", item.parser, item.input, item.bytes, ms,
                         Double(item.bytes) / 1e6 / (ms / 1000), within ? "yes" : "NO (over \(Int(bar)) ms)"))
        }
        return allWithin
    }
}
