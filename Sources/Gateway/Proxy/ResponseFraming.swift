import NIOCore

/// Reads an upstream's HTTP/1.1 response from its raw bytes just far enough to proxy it:
/// the head (status, framing headers, where each field line is), then where the body ends.
/// The body passes through as the upstream wrote it (chunk framing included): decoding and
/// re-encoding every response cost the gateway more CPU than the proxying itself.
struct ResponseFraming {
    struct Failure: Error, Equatable {
        let reason: String
    }

    /// One field line of the head, by byte offsets into `Head.bytes`.
    struct Field {
        let start: Int
        let nameLength: Int
        /// Through the line's CRLF.
        let end: Int
        let valueStart: Int
        let valueEnd: Int
    }

    struct Head {
        /// The whole head, status line to the empty line.
        let bytes: ByteBuffer
        let status: Int
        /// The status code and reason phrase (`200 OK`), as offsets into `bytes`.
        let statusText: Range<Int>
        let fields: [Field]
        /// Whether the upstream lets the connection be used again.
        let keepAlive: Bool
        /// Transfer-Encoding is present (the body keeps its framing).
        let chunked: Bool

        func isNamed(_ field: Field, _ lowercase: [UInt8]) -> Bool {
            bytes.withUnsafeReadableBytes { ResponseFraming.matches($0, field.start, field.nameLength, lowercase) }
        }
        func value(of field: Field) -> ByteBufferView.SubSequence { slice(field.valueStart, field.valueEnd) }
        func slice(_ from: Int, _ to: Int) -> ByteBufferView.SubSequence {
            let view = bytes.readableBytesView
            return view[(view.startIndex + from)..<(view.startIndex + to)]
        }
    }

    enum Output {
        /// More bytes are needed to see the end of the head.
        case needMore
        /// A complete head; an informational one (1xx but 101) is followed by another head.
        case head(Head)
        /// Body bytes to pass on, and whether the response ends with them.
        case body(ByteBuffer, ends: Bool)
    }

    private enum Body {
        case fixed(remaining: Int)
        case chunked(Chunked)
        /// No length: the body runs until the upstream closes.
        case untilClose
    }

    private enum Chunked {
        /// Reading a chunk-size line: the size so far, and whether extensions started.
        case size(Int, digits: Int, inExtension: Bool)
        case sizeLF(Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        /// After the last chunk: trailer lines, then an empty line; `lineLength` so far.
        case trailer(lineLength: Int)
        case trailerLF(lineLength: Int)
    }

    private var pendingHead: ByteBuffer?
    private var body: Body?
    /// The request was HEAD: no response body whatever the headers say.
    let requestWasHead: Bool
    let maxHeadBytes: Int

    init(requestWasHead: Bool, maxHeadBytes: Int = 64 * 1024) {
        self.requestWasHead = requestWasHead
        self.maxHeadBytes = maxHeadBytes
    }

    /// Whether the response's end is only its connection's end.
    var endsAtClose: Bool {
        if case .untilClose = body { return true }
        return false
    }

    /// Takes what it can from `buffer`; call again while `buffer` has bytes left.
    mutating func next(_ buffer: inout ByteBuffer) throws(Failure) -> Output {
        if let body {
            return try nextBody(body, &buffer)
        }
        var head: ByteBuffer
        if var pending = pendingHead {
            pending.writeImmutableBuffer(buffer)
            head = pending
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        } else {
            head = buffer
        }
        guard let headLength = Self.headLength(head) else {
            guard head.readableBytes <= maxHeadBytes else { throw Failure(reason: "response head too large") }
            if pendingHead == nil {
                pendingHead = head
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            } else {
                pendingHead = head
            }
            return .needMore
        }
        // Bytes past the head go back to the caller (they were copied into `pending`).
        if pendingHead != nil {
            let extra = head.readableBytes - headLength
            buffer = head.getSlice(at: head.readerIndex + headLength, length: extra)!
            pendingHead = nil
        } else {
            buffer.moveReaderIndex(forwardBy: headLength)
        }
        let parsed = try Self.parseHead(head.getSlice(at: head.readerIndex, length: headLength)!)
        if parsed.status >= 100 && parsed.status < 200 && parsed.status != 101 { return .head(parsed) }
        body = try bodyFraming(parsed)
        return .head(parsed)
    }

    private func bodyFraming(_ head: Head) throws(Failure) -> Body {
        if requestWasHead || head.status == 204 || head.status == 304 || head.status == 101 { return .fixed(remaining: 0) }
        var length: Int?
        for field in head.fields where head.isNamed(field, Name.contentLength) {
            guard let value = Self.decimal(head.value(of: field)), length == nil || length == value else {
                throw Failure(reason: "bad Content-Length")
            }
            length = value
        }
        if head.chunked {
            guard length == nil else { throw Failure(reason: "Content-Length with Transfer-Encoding") }
            return .chunked(.size(0, digits: 0, inExtension: false))
        }
        return length.map { .fixed(remaining: $0) } ?? .untilClose
    }

    private mutating func nextBody(_ framing: Body, _ buffer: inout ByteBuffer) throws(Failure) -> Output {
        switch framing {
        case .fixed(let remaining):
            let take = min(remaining, buffer.readableBytes)
            let slice = buffer.readSlice(length: take)!
            body = .fixed(remaining: remaining - take)
            return .body(slice, ends: remaining == take)
        case .untilClose:
            let slice = buffer.readSlice(length: buffer.readableBytes)!
            return .body(slice, ends: false)
        case .chunked(var state):
            var ended = false
            let view = buffer.readableBytesView
            var index = view.startIndex
            scan: while index < view.endIndex {
                let byte = view[index]
                switch state {
                case .size(let size, let digits, let inExtension):
                    if byte == UInt8(ascii: "\r") {
                        state = .sizeLF(digits == 0 ? -1 : size)
                    } else if inExtension {
                        break
                    } else if let digit = Self.hexValue(byte), digits < 15 {
                        state = .size(size * 16 + digit, digits: digits + 1, inExtension: false)
                    } else if byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                        state = .size(size, digits: digits, inExtension: true)
                    } else {
                        state = .size(-1, digits: 16, inExtension: true)  // malformed: fails at the line end
                    }
                case .sizeLF(let size):
                    guard byte == UInt8(ascii: "\n"), size >= 0 else { throw Failure(reason: "bad chunk framing") }
                    state = size == 0 ? .trailer(lineLength: 0) : .data(remaining: size)
                case .data(let remaining):
                    let step = min(remaining, view.endIndex - index)
                    index += step
                    state = remaining == step ? .dataCR : .data(remaining: remaining - step)
                    continue scan
                case .dataCR:
                    guard byte == UInt8(ascii: "\r") else { throw Failure(reason: "bad chunk framing") }
                    state = .dataLF
                case .dataLF:
                    guard byte == UInt8(ascii: "\n") else { throw Failure(reason: "bad chunk framing") }
                    state = .size(0, digits: 0, inExtension: false)
                case .trailer(let length):
                    state = byte == UInt8(ascii: "\r") ? .trailerLF(lineLength: length) : .trailer(lineLength: length + 1)
                case .trailerLF(let length):
                    guard byte == UInt8(ascii: "\n") else { throw Failure(reason: "bad chunk framing") }
                    if length == 0 {
                        index += 1
                        ended = true
                        break scan
                    }
                    state = .trailer(lineLength: 0)
                }
                index += 1
            }
            body = .chunked(state)
            let slice = buffer.readSlice(length: index - view.startIndex)!
            return .body(slice, ends: ended)
        }
    }

    // MARK: head

    /// The length of the head through its empty line, if it is all there.
    static func headLength(_ buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { bytes -> Int? in
            guard bytes.count >= 4 else { return nil }
            for i in 3..<bytes.count where bytes[i] == UInt8(ascii: "\n")
                && bytes[i - 1] == UInt8(ascii: "\r") && bytes[i - 2] == UInt8(ascii: "\n") && bytes[i - 3] == UInt8(ascii: "\r") {
                return i + 1
            }
            return nil
        }
    }

    static func parseHead(_ bytes: ByteBuffer) throws(Failure) -> Head {
        let parsed = bytes.withUnsafeReadableBytes { view -> Result<Head, Failure> in
            let count = view.count
            // Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF
            guard count >= 14, matches(view, 0, 7, Name.http1), view[7] == UInt8(ascii: "0") || view[7] == UInt8(ascii: "1"),
                  view[8] == UInt8(ascii: " ") else { return .failure(Failure(reason: "bad status line")) }
            let http10 = view[7] == UInt8(ascii: "0")
            var status = 0
            for offset in 9..<12 {
                let byte = view[offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return .failure(Failure(reason: "bad status code")) }
                status = status * 10 + Int(byte - UInt8(ascii: "0"))
            }
            guard status >= 100 else { return .failure(Failure(reason: "bad status code")) }
            let end = count - 2  // the head's final CRLF
            var lineEnd = 12
            while lineEnd < end, view[lineEnd] != UInt8(ascii: "\r") { lineEnd += 1 }
            guard view[lineEnd] == UInt8(ascii: "\r"), view[lineEnd + 1] == UInt8(ascii: "\n") else { return .failure(Failure(reason: "bad status line")) }
            var fields: [Field] = []
            fields.reserveCapacity(12)
            var keepAlive = !http10
            var chunked = false
            var start = lineEnd + 2
            while start < end {
                var colon = start
                while colon < end, view[colon] != UInt8(ascii: ":"), view[colon] != UInt8(ascii: "\r") { colon += 1 }
                guard colon < end, view[colon] == UInt8(ascii: ":"), colon > start,
                      view[start] != UInt8(ascii: " "), view[start] != UInt8(ascii: "\t") else { return .failure(Failure(reason: "bad header line")) }
                var cr = colon + 1
                while cr < end, view[cr] != UInt8(ascii: "\r") { cr += 1 }
                guard cr < end, view[cr + 1] == UInt8(ascii: "\n") else { return .failure(Failure(reason: "bad header line")) }
                var valueStart = colon + 1
                while valueStart < cr, view[valueStart] == UInt8(ascii: " ") || view[valueStart] == UInt8(ascii: "\t") { valueStart += 1 }
                var valueEnd = cr
                while valueEnd > valueStart, view[valueEnd - 1] == UInt8(ascii: " ") || view[valueEnd - 1] == UInt8(ascii: "\t") { valueEnd -= 1 }
                let nameLength = colon - start
                if matches(view, start, nameLength, Name.connection) {
                    let value = UnsafeRawBufferPointer(rebasing: view[valueStart..<valueEnd])
                    if containsToken(value, Name.close) { keepAlive = false }
                    if containsToken(value, Name.keepAlive) && http10 { keepAlive = true }
                } else if matches(view, start, nameLength, Name.transferEncoding) {
                    chunked = true
                    // Only a final "chunked" frames the body.
                    guard endsWithToken(UnsafeRawBufferPointer(rebasing: view[valueStart..<valueEnd]), Name.chunked) else {
                        return .failure(Failure(reason: "Transfer-Encoding without chunked last"))
                    }
                }
                fields.append(Field(start: start, nameLength: nameLength, end: cr + 2, valueStart: valueStart, valueEnd: valueEnd))
                start = cr + 2
            }
            return .success(Head(bytes: bytes, status: status, statusText: 9..<lineEnd, fields: fields, keepAlive: keepAlive, chunked: chunked))
        }
        return try parsed.get()
    }

    /// Lower-case names and tokens the gateway looks for, as bytes.
    enum Name {
        static let http1 = Array("http/1.".utf8)
        static let connection = Array("connection".utf8)
        static let transferEncoding = Array("transfer-encoding".utf8)
        static let contentLength = Array("content-length".utf8)
        static let requestId = Array("x-request-id".utf8)
        static let close = Array("close".utf8)
        static let keepAlive = Array("keep-alive".utf8)
        static let chunked = Array("chunked".utf8)
    }

    /// `view[start..<start+count]` equals `lowercase` ignoring ASCII case.
    @inline(__always)
    static func matches(_ view: UnsafeRawBufferPointer, _ start: Int, _ count: Int, _ lowercase: [UInt8]) -> Bool {
        guard count == lowercase.count else { return false }
        for i in 0..<count {
            let byte = view[start + i]
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if folded != lowercase[i] { return false }
        }
        return true
    }

    static func containsToken(_ value: UnsafeRawBufferPointer, _ token: [UInt8]) -> Bool {
        var found = false
        forEachToken(value) { if matches(value, $0.lowerBound, $0.count, token) { found = true } }
        return found
    }

    static func endsWithToken(_ value: UnsafeRawBufferPointer, _ token: [UInt8]) -> Bool {
        var last: Range<Int>?
        forEachToken(value) { last = $0 }
        guard let last else { return false }
        return matches(value, last.lowerBound, last.count, token)
    }

    /// Each comma-separated token of a field value, trimmed, as a range.
    static func forEachToken(_ value: UnsafeRawBufferPointer, _ body: (Range<Int>) -> Void) {
        var start = 0
        for i in 0...value.count where i == value.count || value[i] == UInt8(ascii: ",") {
            var from = start, to = i
            while from < to, value[from] == UInt8(ascii: " ") || value[from] == UInt8(ascii: "\t") { from += 1 }
            while to > from, value[to - 1] == UInt8(ascii: " ") || value[to - 1] == UInt8(ascii: "\t") { to -= 1 }
            body(from..<to)
            start = i + 1
        }
    }

    // MARK: bytes

    /// `bytes` equals `lowercase` ignoring ASCII case (`lowercase` must be lower case).
    static func equalsLowercased<C: Collection<UInt8>>(_ bytes: C, _ lowercase: String) -> Bool {
        var other = lowercase.utf8.makeIterator()
        for byte in bytes {
            guard let expected = other.next() else { return false }
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard folded == expected else { return false }
        }
        return other.next() == nil
    }

    static func decimal(_ bytes: ByteBufferView.SubSequence) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A")) + 10
        default: nil
        }
    }
}
