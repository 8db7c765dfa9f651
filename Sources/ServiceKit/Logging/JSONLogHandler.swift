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
            appendString(field.key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendValue(field.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendValue(_ value: Logger.MetadataValue, to out: inout [UInt8]) {
        switch value {
        case .string(let s): appendString(s, to: &out)
        case .stringConvertible(let c): appendString(c.description, to: &out)
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

    private static let hex = Array("0123456789abcdef".utf8)

    /// RFC 8259 escaping: quote, backslash and control characters; "/" and non-ASCII as they are.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// UTC timestamps as ISO 8601 with milliseconds (`2026-12-02T15:04:05.123Z`), from the
/// clock and integer arithmetic alone.
public enum LogTime {
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int64(spec.tv_sec), milliseconds: Int(spec.tv_nsec / 1_000_000))
    }

    public static func format(seconds: Int64, milliseconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); out.append(UInt8(ascii: "-")); digits(month, 2); out.append(UInt8(ascii: "-")); digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2); out.append(UInt8(ascii: ":")); digits(secondOfDay / 60 % 60, 2); out.append(UInt8(ascii: ":")); digits(secondOfDay % 60, 2)
        out.append(UInt8(ascii: ".")); digits(milliseconds, 3); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
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
