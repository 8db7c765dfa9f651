import Foundation
import Logging

public enum LogFormat: Sendable {
    case json
    case text
}

/// One JSON object per line on stdout: `time`, `level`, `label`, `message`, and the
/// metadata (`requestId` among it). Metadata whose key looks like a secret is
/// replaced by "[redacted]", so a careless log call cannot leak a password or token.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public let label: String
    private let write: @Sendable (String) -> Void

    static let sensitive = ["password", "passwd", "secret", "token", "cookie", "authorization", "hash", "jwt", "refresh"]

    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardOutput) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public static func isSensitive(_ key: String) -> Bool {
        let k = key.lowercased()
        return sensitive.contains { k.contains($0) }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var object: [String: Any] = [
            "time": Self.timestamp(), "level": event.level.rawValue, "label": label, "message": event.message.description,
        ]
        for (key, value) in merged where object[key] == nil {
            object[key] = Self.isSensitive(key) ? "[redacted]" : Self.plain(value)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        write(String(decoding: data, as: UTF8.self))
    }

    static func plain(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let a): a.map(plain)
        case .dictionary(let d): Dictionary(uniqueKeysWithValues: d.map { ($0.key, isSensitive($0.key) ? "[redacted]" : plain($0.value)) })
        }
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    public static let standardOutput: @Sendable (String) -> Void = { line in
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

public enum ServiceLogging {
    /// Installs the process-wide log handler once, at start.
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
