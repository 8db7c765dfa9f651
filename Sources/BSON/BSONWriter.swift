extension BSONDocument {
    /// The document as BSON bytes. Keys with a NUL byte cannot be represented: that is an error.
    public func bytes() throws(BSONError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(64)
        try BSONDocument.write(elements, into: &out)
        return out
    }

    static func write(_ elements: [BSONElement], into out: inout [UInt8]) throws(BSONError) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        for element in elements {
            out.append(element.value.typeByte)
            try writeCString(element.key, into: &out)
            try element.value.write(into: &out)
        }
        out.append(0)
        patchLength(at: start, in: &out)
    }

    static func patchLength(at start: Int, in out: inout [UInt8]) {
        let length = UInt32(out.count - start)
        for i in 0..<4 { out[start + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
    }

    static func writeCString(_ s: String, into out: inout [UInt8]) throws(BSONError) {
        let before = out.count
        out.append(contentsOf: s.utf8)
        if out[before...].contains(0) { throw .invalidKey(s) }
        out.append(0)
    }
}

extension BSONValue {
    func write(into out: inout [UInt8]) throws(BSONError) {
        switch self {
        case .double(let v): out.appendLE(v.bitPattern)
        case .string(let s), .javascript(let s):
            out.appendLE(UInt32(s.utf8.count + 1))
            out.append(contentsOf: s.utf8)
            out.append(0)
        case .document(let d): try BSONDocument.write(d.elements, into: &out)
        case .array(let values):
            let elements = values.enumerated().map { BSONElement(key: String($0.offset), value: $0.element) }
            try BSONDocument.write(elements, into: &out)
        case .binary(let b):
            // The deprecated subtype 2 repeats the length inside the payload.
            let inner = b.subtype == 2
            out.appendLE(UInt32(b.bytes.count + (inner ? 4 : 0)))
            out.append(b.subtype)
            if inner { out.appendLE(UInt32(b.bytes.count)) }
            out.append(contentsOf: b.bytes)
        case .undefined, .null, .minKey, .maxKey: break
        case .objectId(let id): out.append(contentsOf: id.bytes)
        case .bool(let b): out.append(b ? 1 : 0)
        case .datetime(let ms): out.appendLE(UInt64(bitPattern: ms))
        case .regex(let pattern, let options):
            try BSONDocument.writeCString(pattern, into: &out)
            try BSONDocument.writeCString(options, into: &out)
        case .int32(let v): out.appendLE(UInt32(bitPattern: v))
        case .timestamp(let v): out.appendLE(v)
        case .int64(let v): out.appendLE(UInt64(bitPattern: v))
        case .decimal128(let d):
            out.appendLE(d.low)
            out.appendLE(d.high)
        }
    }
}

extension [UInt8] {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        for i in 0..<(T.bitWidth / 8) { append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
}
