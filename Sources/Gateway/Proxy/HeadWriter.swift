import NIOCore
import NIOHTTP1

/// Writes HTTP/1.1 heads as bytes: requests to upstreams, and responses to clients (the
/// upstream's, rewritten, or the gateway's own), with the gateway's headers added.
struct HeadWriter {
    var buffer: ByteBuffer

    init(allocator: ByteBufferAllocator, capacity: Int = 512) {
        buffer = allocator.buffer(capacity: capacity)
    }

    mutating func field(_ name: String, _ value: String) {
        buffer.writeString(name)
        buffer.writeStaticString(": ")
        buffer.writeString(value)
        buffer.writeStaticString("\r\n")
    }

    /// Ends the head with its empty line and hands it over.
    mutating func finish() -> ByteBuffer {
        buffer.writeStaticString("\r\n")
        return buffer
    }

    // MARK: requests to upstreams

    /// The request line and the client's headers minus hop-by-hop ones and those the
    /// gateway sets itself (forwarding headers, request id), which it then adds.
    /// `cookie`, when given, replaces the client's `Cookie` fields (nil inside: none).
    /// `overTLS`: the client came over TLS (`X-Forwarded-Proto: https`).
    static func upstreamRequest(_ head: HTTPRequestHead, uri: String, isUpgrade: Bool, chunked: Bool, forwardedFor: String,
                                requestId: String, fieldBytes: Int, cookie: String?? = nil, overTLS: Bool = false, allocator: ByteBufferAllocator) -> ByteBuffer {
        var writer = HeadWriter(allocator: allocator, capacity: 160 + uri.utf8.count + fieldBytes + forwardedFor.utf8.count)
        writer.buffer.writeString(head.method.rawValue)
        writer.buffer.writeStaticString(" ")
        writer.buffer.writeString(uri)
        writer.buffer.writeStaticString(" HTTP/1.1\r\n")
        let named = HopByHop.connectionTokens(head.headers)
        for (name, value) in head.headers where !HopByHop.isDropped(name, keepUpgrade: isUpgrade, alsoDropping: named, gatewaySets: Self.setForUpstream) {
            if cookie != nil, name.utf8.count == 6, ResponseFraming.equalsLowercased(name.utf8, "cookie") { continue }
            writer.field(name, value)
        }
        if let replacement = cookie, let value = replacement { writer.field("Cookie", value) }
        if chunked { writer.buffer.writeStaticString("Transfer-Encoding: chunked\r\n") }
        writer.field("X-Forwarded-For", forwardedFor)
        writer.buffer.writeStaticString(overTLS ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n")
        writer.field("X-Request-Id", requestId)
        return writer.finish()
    }

    static let setForUpstream = ["x-forwarded-for", "x-forwarded-proto", "x-request-id"]

    // MARK: responses to clients

    /// The upstream's response head for the client: HTTP/1.1, the upstream's fields minus
    /// hop-by-hop ones (Transfer-Encoding stays: the body keeps its framing), then the
    /// gateway's decoration.
    static func clientResponse(_ head: ResponseFraming.Head, keepUpgrade: Bool, decoration: Decoration, allocator: ByteBufferAllocator) -> ByteBuffer {
        var writer = HeadWriter(allocator: allocator, capacity: head.bytes.readableBytes + decoration.bytes)
        writer.buffer.writeStaticString("HTTP/1.1 ")
        writer.buffer.writeBytes(head.slice(head.statusText.lowerBound, head.statusText.upperBound))
        writer.buffer.writeStaticString("\r\n")
        var present = decoration.securityPresence
        head.bytes.withUnsafeReadableBytes { view in
            // Fields the Connection header names go with it (but not the usual "keep-alive" or "close").
            var named: [[UInt8]] = []
            for field in head.fields where ResponseFraming.matches(view, field.start, field.nameLength, ResponseFraming.Name.connection) {
                let value = UnsafeRawBufferPointer(rebasing: view[field.valueStart..<field.valueEnd])
                ResponseFraming.forEachToken(value) { token in
                    let length = token.count
                    guard !ResponseFraming.matches(value, token.lowerBound, length, ResponseFraming.Name.close),
                          !HopByHop.lowercasedBytes.contains(where: { ResponseFraming.matches(value, token.lowerBound, length, $0) }) else { return }
                    named.append(value[token].map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 })
                }
            }
            for field in head.fields {
                let (start, length) = (field.start, field.nameLength)
                if HopByHop.lengths.contains(length), let hop = HopByHop.lowercasedBytes.first(where: { ResponseFraming.matches(view, start, length, $0) }) {
                    if hop == ResponseFraming.Name.transferEncoding || (keepUpgrade && (hop == HopByHop.upgrade || hop == ResponseFraming.Name.connection)) {
                        writer.buffer.writeBytes(UnsafeRawBufferPointer(rebasing: view[start..<field.end]))
                    }
                    continue
                }
                if ResponseFraming.matches(view, start, length, ResponseFraming.Name.requestId) { continue }
                if !named.isEmpty, named.contains(where: { ResponseFraming.matches(view, start, length, $0) }) { continue }
                if !decoration.cors.isEmpty, decoration.cors.contains(where: { $0.replacesUpstream && ResponseFraming.matches(view, start, length, $0.lowercasedName) }) { continue }
                for index in decoration.security.indices where !present[index] && ResponseFraming.matches(view, start, length, decoration.security[index].lowercasedName) {
                    present[index] = true
                }
                writer.buffer.writeBytes(UnsafeRawBufferPointer(rebasing: view[start..<field.end]))
            }
        }
        decoration.write(into: &writer, present: present)
        return writer.finish()
    }

    /// The gateway's own response head.
    static func ownResponse(status: HTTPResponseStatus, contentType: String?, contentLength: Int, extra: [(String, String)],
                            decoration: Decoration, allocator: ByteBufferAllocator) -> ByteBuffer {
        var writer = HeadWriter(allocator: allocator)
        writer.buffer.writeStaticString("HTTP/1.1 ")
        writer.buffer.writeString(String(status.code))
        writer.buffer.writeStaticString(" ")
        writer.buffer.writeString(status.reasonPhrase)
        writer.buffer.writeStaticString("\r\n")
        if let contentType { writer.field("Content-Type", contentType) }
        writer.field("Content-Length", String(contentLength))
        // A security header the response sets itself (a static site's CSP) replaces the configured one.
        var present = decoration.securityPresence
        for (name, value) in extra {
            writer.field(name, value)
            let lowercased = Array(name.lowercased().utf8)
            for index in decoration.security.indices where decoration.security[index].lowercasedName == lowercased { present[index] = true }
        }
        decoration.write(into: &writer, present: present)
        return writer.finish()
    }

    /// What the gateway adds to every response: security headers (unless the service set
    /// its own), the request id, CORS headers, and `Connection: close` when it will close.
    struct Decoration {
        let security: [SecurityHeader]
        let requestId: String
        let cors: [CORSHeader]
        let close: Bool
        /// A session the gateway refreshed on the way: the browser's new cookies.
        var setCookies: [String] = []

        var securityPresence: SecurityPresence { SecurityPresence() }

        /// Room the decoration takes, roughly.
        var bytes: Int {
            security.reduce(96 + requestId.utf8.count) { $0 + $1.line.count } + cors.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
                + setCookies.reduce(0) { $0 + $1.utf8.count + 14 }
        }

        func write(into writer: inout HeadWriter, present: SecurityPresence) {
            for (index, header) in security.enumerated() where !present[index] { writer.buffer.writeBytes(header.line) }
            writer.field("X-Request-Id", requestId)
            for header in cors { writer.field(header.name, header.value) }
            for cookie in setCookies { writer.field("Set-Cookie", cookie) }
            if close { writer.buffer.writeStaticString("Connection: close\r\n") }
        }
    }

    /// Which configured security headers the service set itself: bits, not an array (one per response).
    struct SecurityPresence {
        private var bits: UInt64 = 0
        subscript(index: Int) -> Bool {
            get { index < 64 && bits & (1 << UInt64(index)) != 0 }
            set { if index < 64 { bits = newValue ? bits | (1 << UInt64(index)) : bits & ~(1 << UInt64(index)) } }
        }
    }

    struct CORSHeader {
        let name: String
        let value: String
        let lowercasedName: [UInt8]
        /// The service's own field of this name is dropped, except `Vary`: a list, so the
        /// service's `Vary: Accept-Encoding` and the gateway's `Vary: Origin` both stay.
        let replacesUpstream: Bool

        init(name: String, value: String) {
            self.name = name
            self.value = value
            lowercasedName = Array(name.lowercased().utf8)
            replacesUpstream = name.lowercased() != "vary"
        }
    }

    /// A configured security header, encoded once per configuration.
    struct SecurityHeader: Sendable {
        let lowercasedName: [UInt8]
        let line: [UInt8]

        init(name: String, value: String) {
            lowercasedName = Array(name.lowercased().utf8)
            line = Array("\(name): \(value)\r\n".utf8)
        }
    }
}
