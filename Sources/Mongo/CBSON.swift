import BSON
import CMongoc

// Moving documents between Swift and libbson. `bson_t` is declared 128-byte
// aligned, so it is never held in a Swift variable: libbson allocates it, or we
// allocate aligned raw memory for the out-parameters libmongoc fills in.

/// Runs `body` with a heap `bson_t` holding `document`, freed afterwards.
func withBSON<R>(_ document: BSONDocument?, _ body: (OpaquePointer?) throws -> R) throws -> R {
    guard let document else { return try body(nil) }
    let bytes = try document.bytes()
    guard let bson = bytes.withUnsafeBufferPointer({ bson_new_from_data($0.baseAddress, $0.count) }) else {
        throw MongoError.invalidDocument("libbson refused the document")
    }
    defer { bson_destroy(bson) }
    return try body(bson)
}

/// Copies a libbson document into Swift.
func readBSON(_ bson: OpaquePointer) throws -> BSONDocument {
    guard let data = bson_get_data(bson) else { return BSONDocument() }
    let length = Int(UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24)
    return try BSONDocument(bytes: UnsafeRawBufferPointer(start: data, count: length))
}

/// An out-parameter `bson_t` for libmongoc's replies: initialised, handed to
/// `body`, read back and destroyed.
func withReply(_ body: (OpaquePointer) throws -> Void) throws -> BSONDocument {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 128)
    defer { raw.deallocate() }
    let reply = OpaquePointer(raw)
    bson_init(reply)
    defer { bson_destroy(reply) }
    try body(reply)
    return try readBSON(reply)
}

/// A fresh `bson_error_t`, and the conversion of a filled one to `MongoError`.
func makeError(_ error: bson_error_t) -> MongoError {
    var error = error
    let message = withUnsafeBytes(of: &error.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    return MongoError(domain: error.domain, code: error.code, message: message)
}

/// A `bson_value_t` holding an ObjectId, for the GridFS calls that take one.
func withObjectIdValue<R>(_ id: ObjectId, _ body: (UnsafePointer<bson_value_t>) throws -> R) rethrows -> R {
    var value = bson_value_t()
    value.value_type = BSON_TYPE_OID
    let bytes = id.bytes
    withUnsafeMutableBytes(of: &value.value.v_oid.bytes) { raw in
        for i in 0..<12 { raw[i] = bytes[i] }
    }
    return try body(&value)
}
