import NIOCore

/// RESP2, the protocol Redis speaks: commands go out as arrays of bulk strings, replies
/// come back as one of five kinds. The decoder reads one whole reply or nothing.
enum RESP {
    /// `*<n>\r\n` then `$<len>\r\n<bytes>\r\n` per argument.
    static func write(_ command: [[UInt8]], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(command.count, into: &buffer)
        for argument in command {
            buffer.writeInteger(UInt8(ascii: "$"))
            writeDecimal(argument.count, into: &buffer)
            buffer.writeBytes(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    private static func writeDecimal(_ value: Int, into buffer: inout ByteBuffer) {
        buffer.writeString(String(value))
        buffer.writeStaticString("\r\n")
    }

    enum ProtocolError: Error { case malformed(String) }

    /// Replies nest at most this deep (Redis's own go two or three levels down).
    static let maximumDepth = 32

    /// One complete reply from the front of `buffer`, moving its reader index past it;
    /// nil, with the buffer untouched, when the reply has not fully arrived.
    static func read(from buffer: inout ByteBuffer) throws -> RedisValue? {
        var copy = buffer
        guard let value = try readValue(&copy, depth: 0) else { return nil }
        buffer = copy
        return value
    }

    private static func readValue(_ buffer: inout ByteBuffer, depth: Int) throws -> RedisValue? {
        guard depth < maximumDepth else { throw ProtocolError.malformed("replies nested over \(maximumDepth) deep") }
        guard let kind = buffer.readInteger(as: UInt8.self), let line = readLine(&buffer) else { return nil }
        switch kind {
        case UInt8(ascii: "+"): return .status(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: "-"): return .error(String(decoding: line, as: UTF8.self))
        case UInt8(ascii: ":"): return .integer(try decimal(line))
        case UInt8(ascii: "$"):
            let length = try decimal(line)
            if length < 0 { return .null }
            guard buffer.readableBytes >= length + 2, let bytes = buffer.readBytes(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 2)
            return .bulk(bytes)
        case UInt8(ascii: "*"):
            let count = try decimal(line)
            if count < 0 { return .null }
            var elements = [RedisValue]()
            elements.reserveCapacity(Swift.min(count, 1024))
            for _ in 0..<count {
                guard let element = try readValue(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw ProtocolError.malformed("reply type byte \(kind)")
        }
    }

    /// The bytes up to `\r\n`, which it consumes too.
    private static func readLine(_ buffer: inout ByteBuffer) -> ArraySlice<UInt8>? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: UInt8(ascii: "\r")), cr + 1 < view.endIndex else { return nil }
        let line = ArraySlice(view[view.startIndex..<cr])
        buffer.moveReaderIndex(forwardBy: cr - view.startIndex + 2)
        return line
    }

    private static func decimal(_ text: ArraySlice<UInt8>) throws -> Int {
        guard let value = Int(String(decoding: text, as: UTF8.self)) else {
            throw ProtocolError.malformed("not a number: \(String(decoding: text.prefix(20), as: UTF8.self))")
        }
        return value
    }
}

/// Splits the byte stream from Redis into replies.
struct RESPDecoder: ByteToMessageDecoder {
    typealias InboundOut = RedisValue

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try RESP.read(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
