import CHiredis
import Glibc

/// One hiredis context. Not thread-safe: the pool hands it to one thread at a time,
/// which is what makes the unchecked `Sendable` sound.
final class RedisConnection: @unchecked Sendable {
    private let context: UnsafeMutablePointer<redisContext>

    init(host: String, port: Int, timeoutSeconds: Double) throws {
        let tv = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds.truncatingRemainder(dividingBy: 1)) * 1_000_000))
        guard let c = redisConnectWithTimeout(host, Int32(port), tv) else {
            throw RedisError.unavailable("out of memory creating a connection")
        }
        if c.pointee.err != 0 {
            let message = Self.errorString(c)
            redisFree(c)
            throw RedisError.unavailable("\(host):\(port): \(message)")
        }
        redisSetTimeout(c, tv)
        redisEnableKeepAlive(c)
        context = c
    }

    deinit { redisFree(context) }

    /// The socket, for the subscriber's poll loop.
    var fileDescriptor: Int32 { context.pointee.fd }

    /// Sends every command, then reads every reply: one round trip for the lot.
    func pipeline(_ commands: [[[UInt8]]]) throws -> [RedisValue] {
        for command in commands { try append(command) }
        return try (0..<commands.count).map { _ in try readReply() }
    }

    func append(_ command: [[UInt8]]) throws {
        let rc = withArgv(command) { argc, argv, lengths in redisAppendCommandArgv(context, argc, argv, lengths) }
        guard rc == REDIS_OK else { throw RedisError.unavailable(Self.errorString(context)) }
    }

    /// Blocks until one reply has arrived (or the timeout passed).
    func readReply() throws -> RedisValue {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw RedisError.unavailable(Self.errorString(context))
        }
        defer { freeReplyObject(raw) }
        return Self.convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Flushes appended commands without waiting for replies.
    func flush() throws {
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw RedisError.unavailable(Self.errorString(context)) }
        }
    }

    /// Reads what the socket has and returns the complete replies it held, without blocking
    /// (call after poll says the socket is readable).
    func readAvailable() throws -> [RedisValue] {
        guard redisBufferRead(context) == REDIS_OK else { throw RedisError.unavailable(Self.errorString(context)) }
        var replies = [RedisValue]()
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReplyFromReader(context, &raw) == REDIS_OK else {
                throw RedisError.unavailable(Self.errorString(context))
            }
            guard let raw else { return replies }
            replies.append(Self.convert(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
    }

    private func withArgv<R>(_ command: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        // hiredis copies the arguments while formatting, so pointers into our arrays are enough.
        let lengths = command.map(\.count)
        let storage = command.map { bytes -> UnsafeMutablePointer<CChar> in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: bytes.count) }
            }
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        var argv: [UnsafePointer<CChar>?] = storage.map { UnsafePointer($0) }
        return argv.withUnsafeMutableBufferPointer { a in
            lengths.withUnsafeBufferPointer { l in body(Int32(command.count), a.baseAddress!, l.baseAddress!) }
        }
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        func text() -> [UInt8] {
            guard let str = r.str else { return [] }
            return Array(UnsafeRawBufferPointer(start: str, count: Int(r.len)))
        }
        switch r.type {
        case REDIS_REPLY_STRING: return .bulk(text())
        case REDIS_REPLY_STATUS: return .status(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: text(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int(r.integer))
        case REDIS_REPLY_ARRAY:
            guard let elements = r.element else { return .array([]) }
            return .array((0..<Int(r.elements)).map { i in elements[i].map(convert) ?? .null })
        default: return .null
        }
    }

    private static func errorString(_ c: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: c.pointee.errstr) { raw in
            let text = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            return text.isEmpty ? "connection error \(c.pointee.err)" : text
        }
    }
}
