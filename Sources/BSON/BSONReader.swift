import Foundation

/// Parses BSON bytes, checking every length and terminator against the buffer,
/// so malformed input from the wire is an error, never a crash.
struct BSONReader {
    static let maxDepth = 100

    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func readDocument(depth: Int = 0) throws(BSONError) -> BSONDocument {
        guard depth <= Self.maxDepth else { throw .tooDeep }
        let start = offset
        let length = Int(try readInt32())
        guard length >= 5, start + length <= bytes.count else { throw .badLength(offset: start, length: length) }
        let end = start + length - 1
        guard bytes[end] == 0 else { throw .missingTerminator(offset: end) }
        var elements = [BSONElement]()
        while offset < end {
            let type = bytes[offset]
            offset += 1
            let key = try readCString(limit: end)
            let value = try readValue(type: type, key: key, depth: depth, limit: end)
            elements.append(BSONElement(key: key, value: value))
        }
        guard offset == end else { throw .badLength(offset: start, length: length) }
        offset = end + 1
        return BSONDocument(elements)
    }

    private mutating func readValue(type: UInt8, key: String, depth: Int, limit: Int) throws(BSONError) -> BSONValue {
        switch type {
        case 0x01: return .double(Double(bitPattern: try readUInt64(limit: limit)))
        case 0x02, 0x0E: return .string(try readString(limit: limit))
        case 0x03: return .document(try readDocument(depth: depth + 1))
        case 0x04: return .array(try readDocument(depth: depth + 1).elements.map(\.value))
        case 0x05:
            let length = Int(try readInt32(limit: limit))
            try need(length + 1, limit: limit, at: offset - 4, length: length)
            let subtype = bytes[offset]
            offset += 1
            var data = Array(bytes[offset..<offset + length])
            // The deprecated subtype 2 wraps its bytes in a second length.
            if subtype == 2, data.count >= 4 { data.removeFirst(4) }
            offset += length
            return .binary(BSONBinary(subtype: subtype, bytes: data))
        case 0x06: return .undefined
        case 0x07:
            try need(12, limit: limit, at: offset, length: 12)
            let id = ObjectId(bytes: bytes[offset..<offset + 12])
            offset += 12
            return .objectId(id)
        case 0x08:
            try need(1, limit: limit, at: offset, length: 1)
            let b = bytes[offset]
            offset += 1
            return .bool(b != 0)
        case 0x09: return .datetime(Int64(bitPattern: try readUInt64(limit: limit)))
        case 0x0A: return .null
        case 0x0B: return .regex(pattern: try readCString(limit: limit), options: try readCString(limit: limit))
        case 0x0D: return .javascript(try readString(limit: limit))
        case 0x10: return .int32(try readInt32(limit: limit))
        case 0x11: return .timestamp(try readUInt64(limit: limit))
        case 0x12: return .int64(Int64(bitPattern: try readUInt64(limit: limit)))
        case 0x13:
            let low = try readUInt64(limit: limit)
            let high = try readUInt64(limit: limit)
            return .decimal128(BSONDecimal128(low: low, high: high))
        case 0xFF: return .minKey
        case 0x7F: return .maxKey
        default: throw .unsupportedType(type, key: key)
        }
    }

    private func need(_ n: Int, limit: Int, at position: Int, length: Int) throws(BSONError) {
        guard n >= 0, offset + n <= limit else { throw .badLength(offset: position, length: length) }
    }

    private mutating func readInt32(limit: Int? = nil) throws(BSONError) -> Int32 {
        guard offset + 4 <= (limit ?? bytes.count) else { throw .truncated(offset: offset) }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return Int32(bitPattern: v)
    }

    private mutating func readUInt64(limit: Int) throws(BSONError) -> UInt64 {
        guard offset + 8 <= limit else { throw .truncated(offset: offset) }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return v
    }

    private mutating func readCString(limit: Int) throws(BSONError) -> String {
        let start = offset
        var end = start
        while end < limit, bytes[end] != 0 { end += 1 }
        guard end < limit else { throw .missingTerminator(offset: start) }
        offset = end + 1
        return try utf8(start, end)
    }

    private mutating func readString(limit: Int) throws(BSONError) -> String {
        let at = offset
        let length = Int(try readInt32(limit: limit))
        guard length >= 1, offset + length <= limit else { throw .badLength(offset: at, length: length) }
        let end = offset + length - 1
        guard bytes[end] == 0 else { throw .missingTerminator(offset: end) }
        let s = try utf8(offset, end)
        offset = end + 1
        return s
    }

    private func utf8(_ start: Int, _ end: Int) throws(BSONError) -> String {
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
        return s
    }
}

extension BSONDocument {
    /// Parses one whole BSON document; trailing bytes are an error.
    public init(bytes: some ContiguousBytes) throws(BSONError) {
        let result: Result<BSONDocument, BSONError> = bytes.withUnsafeBytes { raw in
            var reader = BSONReader(raw)
            do throws(BSONError) {
                let doc = try reader.readDocument()
                guard reader.offset == raw.count else { return .failure(.badLength(offset: 0, length: raw.count)) }
                return .success(doc)
            } catch { return .failure(error) }
        }
        self = try result.get()
    }
}
