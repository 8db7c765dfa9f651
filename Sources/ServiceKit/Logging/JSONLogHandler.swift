import EdgeContract
import Foundation
import Logging

public enum LogFormat: Sendable {
    case json
    case text
}

/// One JSON object per line: `time`, `level`, `label`, `message`, and the metadata
/// (`requestId` among it), keys sorted. Metadata whose key looks like a secret is replaced
/// by "[redacted]", so a careless log call cannot leak a password or token. Lines go to
/// `LogOutput.standardOutput` unless a test gives a `write` of its own.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String
    private let write: (@Sendable (String) -> Void)?

    static let sensitive = ["password", "passwd", "secret", "token", "cookie", "authorization", "hash", "jwt", "refresh"]

    public init(label: String, level: Logger.Level = .info, write: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let sensitiveBytes = sensitive.map { Array($0.utf8) }

    /// Whether `key` contains one of `sensitive`, ignoring ASCII case: byte by byte, since
    /// every field of every line asks.
    public static func isSensitive(_ key: String) -> Bool {
        let found = key.utf8.withContiguousStorageIfAvailable { key in
            sensitiveBytes.contains { word in
                guard key.count >= word.count else { return false }
                return (0...(key.count - word.count)).contains { start in
                    word.indices.allSatisfy { i in
                        let byte = key[start + i]
                        return (byte >= 65 && byte <= 90 ? byte | 0x20 : byte) == word[i]
                    }
                }
            }
        }
        return found ?? {
            let k = key.lowercased()
            return sensitive.contains { k.contains($0) }
        }()
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata, !extra.isEmpty {
            if merged.isEmpty { merged = extra } else { merged.merge(extra) { _, new in new } }
        }
        let line = JSONLogLine.encode(time: LogTime.now(), level: event.level.rawValue, label: label,
                                      message: event.message.description, metadata: merged)
        if let write {
            write(String(decoding: line.dropLast(), as: UTF8.self))
        } else {
            LogOutput.standardOutput.write(line)
        }
    }
}

/// A log line's JSON, written by hand: Foundation's JSONSerialization and date formatting
/// cost more than the request a gateway's access-log line describes.
enum JSONLogLine {
    /// The object and its newline. The four fixed fields win over metadata of the same name.
    static func encode(time: String, level: String, label: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var fields: [(key: String, value: Logger.MetadataValue)] = [
            ("label", .string(label)), ("level", .string(level)), ("message", .string(message)), ("time", .string(time)),
        ]
        fields.reserveCapacity(4 + metadata.count)
        for (key, value) in metadata where key != "label" && key != "level" && key != "message" && key != "time" {
            fields.append((key, JSONLogHandler.isSensitive(key) ? .string("[redacted]") : value))
        }
        var out: [UInt8] = []
        out.reserveCapacity(64 + 48 * fields.count)
        appendObject(fields, to: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    private static func appendObject(_ fields: [(key: String, value: Logger.MetadataValue)], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (index, field) in fields.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            LogText.appendString(field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendValue(field.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendValue(_ value: Logger.MetadataValue, to out: inout [UInt8]) {
        switch value {
        case .string(let s): LogText.appendString(s, to: &out)
        case .stringConvertible(let c): LogText.appendString(c.description, to: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendValue(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            appendObject(dictionary.map { ($0.key, JSONLogHandler.isSensitive($0.key) ? .string("[redacted]") : $0.value) }, to: &out)
        }
    }
}

public enum ServiceLogging {
    /// Installs the process-wide log handler once, at start. JSON lines go through
    /// `LogOutput.standardOutput`, which the process runs as its first service.
    public static func bootstrap(level: Logger.Level, format: LogFormat) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .json: return JSONLogHandler(label: label, level: level)
            case .text:
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
