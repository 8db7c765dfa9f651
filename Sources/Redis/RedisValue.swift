/// A reply from Redis.
public enum RedisValue: Sendable, Equatable {
    case bulk([UInt8])
    case status(String)
    case integer(Int)
    case array([RedisValue])
    case null
    /// An error reply (`-ERR …`): the command was refused, the connection is fine.
    case error(String)

    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let b): b
        case .status(let s): Array(s.utf8)
        default: nil
        }
    }

    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    public var integer: Int? {
        if case .integer(let i) = self { return i }
        return nil
    }

    public var array: [RedisValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// One argument of a command: text or raw bytes.
public protocol RedisArgument: Sendable {
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument { public var redisBytes: [UInt8] { Array(utf8) } }
extension Int: RedisArgument { public var redisBytes: [UInt8] { Array(String(self).utf8) } }
extension Array: RedisArgument where Element == UInt8 { public var redisBytes: [UInt8] { self } }

public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server could not be reached or the connection broke: a 503 for the caller.
    case unavailable(String)
    /// The server refused the command.
    case command(String)
    /// A reply of a kind the command never returns.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .unavailable(let m): "Redis unavailable: \(m)"
        case .command(let m): "Redis refused the command: \(m)"
        case .unexpectedReply(let m): "unexpected Redis reply: \(m)"
        }
    }
}
