import EdgeContract
import Logging

/// Where the gateway's access-log lines go (`access_log on`: one per request).
public enum AccessLogOutput: Sendable {
    /// A `request` line through the gateway's logger, its fields as metadata (text logs,
    /// a level above info, tests).
    case logger
    /// The line the process's JSON log handler would write for that call, encoded here in
    /// one pass — no metadata dictionary, no sorting, no String per field — straight into
    /// the buffer of the process's log output, which writes it off the event loop: `write`
    /// gives the encoder that buffer.
    case jsonLines(@Sendable (_ encode: (inout [UInt8]) -> Void) -> Void)
}

/// One request's access-log line: time, route, method, path (without its query), status,
/// latency, bytes, upstream, request id, client. Never a header value.
struct AccessLogEntry {
    var route: String
    var method: String
    var uri: String
    var status: Int
    var seconds: Double
    var bytes: Int
    var upstream: String
    var requestId: String
    var client: String

    /// Latency in milliseconds to two places, as the metadata value prints it (`0.35`, `12.0`).
    private var hundredthsOfMilliseconds: Int { Int((max(0, seconds) * 1e5).rounded()) }

    private var path: Substring { uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...] }

    var metadata: Logger.Metadata {
        [
            "route": .string(route), "method": .string(method), "path": .string(String(path)),
            "status": .stringConvertible(status), "latencyMs": .stringConvertible(Double(hundredthsOfMilliseconds) / 100),
            "bytes": .stringConvertible(bytes), "upstream": .string(upstream), "requestId": .string(requestId), "client": .string(client),
        ]
    }

    /// The JSON line and its newline: the same bytes `JSONLogHandler` writes for
    /// `logger.info("request", metadata: metadata)`, keys in the same (sorted) order.
    func jsonLine(label: String, appendTime: (inout [UInt8]) -> Void = LogTime.appendNow) -> [UInt8] {
        var out: [UInt8] = []
        append(to: &out, label: label, appendTime: appendTime)
        return out
    }

    /// The same line, appended to `out`.
    func append(to out: inout [UInt8], label: String, appendTime: (inout [UInt8]) -> Void = LogTime.appendNow) {
        out.reserveCapacity(out.count + 256 + uri.utf8.count)
        var first = true
        func key(_ name: StaticString) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            first = false
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func quoted(_ body: (inout [UInt8]) -> Void) {
            out.append(UInt8(ascii: "\""))
            body(&out)
            out.append(UInt8(ascii: "\""))
        }
        key("bytes"); quoted { LogText.appendDecimal(bytes, to: &$0) }
        key("client"); LogText.appendString(client, to: &out)
        key("label"); LogText.appendString(label, to: &out)
        key("latencyMs")
        quoted { out in
            let hundredths = hundredthsOfMilliseconds
            LogText.appendDecimal(hundredths / 100, to: &out)
            out.append(UInt8(ascii: "."))
            let fraction = hundredths % 100
            if fraction % 10 == 0 {
                out.append(UInt8(ascii: "0") + UInt8(fraction / 10))
            } else {
                out.append(UInt8(ascii: "0") + UInt8(fraction / 10))
                out.append(UInt8(ascii: "0") + UInt8(fraction % 10))
            }
        }
        key("level"); out.append(contentsOf: #""info""#.utf8)
        key("message"); out.append(contentsOf: #""request""#.utf8)
        key("method"); LogText.appendString(method, to: &out)
        key("path"); quoted { LogText.appendEscaped(path.utf8, to: &$0) }
        key("requestId"); LogText.appendString(requestId, to: &out)
        key("route"); LogText.appendString(route, to: &out)
        key("status"); quoted { LogText.appendDecimal(status, to: &$0) }
        key("time"); quoted(appendTime)
        key("upstream"); LogText.appendString(upstream, to: &out)
        out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
    }
}
