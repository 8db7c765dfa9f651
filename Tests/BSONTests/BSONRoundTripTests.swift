import BSON
import Foundation
import Testing

struct Address: Codable, Equatable {
    var city: String
    var zip: String?
}

struct Everything: Codable, Equatable {
    var id: ObjectId
    var name: String
    var small: Int32
    var big: Int64
    var plain: Int
    var ratio: Double
    var flag: Bool
    var created: Date
    var blob: Data
    var nothing: String?
    var tags: [String]
    var matrix: [[Int]]
    var address: Address
    var history: [Address]
    var byName: [String: Int]
}

@Suite struct BSONRoundTripTests {
    let everything = Everything(
        id: ObjectId(), name: "Zoë ✓", small: -7, big: Int64.max, plain: 42, ratio: 0.1, flag: true,
        created: Date(timeIntervalSince1970: 1_700_000_000.123), blob: Data([0, 1, 2, 255]), nothing: nil,
        tags: ["a", "b"], matrix: [[1, 2], [], [3]], address: Address(city: "Oslo", zip: nil),
        history: [Address(city: "Bergen", zip: "5003")], byName: ["x": 1])

    @Test func codableValueSurvivesBytes() throws {
        let doc = try BSONEncoder().encode(everything)
        let reread = try BSONDocument(bytes: try doc.bytes())
        #expect(reread == doc)
        let decoded = try BSONDecoder().decode(Everything.self, from: reread)
        #expect(decoded == everything)
    }

    @Test func swiftTypesMapToTheirBSONTypes() throws {
        let doc = try BSONEncoder().encode(everything)
        #expect(doc["id"] == .objectId(everything.id))
        #expect(doc["small"] == .int32(-7))
        #expect(doc["big"] == .int64(Int64.max))
        #expect(doc["plain"] == .int64(42))
        #expect(doc["ratio"] == .double(0.1))
        #expect(doc["flag"] == .bool(true))
        #expect(doc["created"] == .datetime(1_700_000_000_123))
        #expect(doc["blob"] == .binary(BSONBinary(subtype: 0, bytes: [0, 1, 2, 255])))
        #expect(doc["nothing"] == nil, "a nil optional is left out, not stored as null")
        #expect(doc["address"] == ["city": "Oslo"])
        #expect(doc["matrix"] == [[1, 2], [], [3]])
    }

    @Test(arguments: [
        BSONValue.double(-1.5), .string(""), .string("NUL-free ünïcode"), .document(["a": ["b": 1]]),
        .array([1, "two", nil]), .binary(BSONBinary(subtype: 4, bytes: Array(repeating: 9, count: 16))),
        .binary(BSONBinary(subtype: 2, bytes: [1, 2, 3])), .undefined, .objectId(ObjectId()), .bool(false),
        .datetime(-62_135_596_800_000), .null, .regex(pattern: "^a.*", options: "i"), .javascript("x"),
        .int32(Int32.min), .timestamp(UInt64(1) << 32 | 7), .int64(Int64.min),
        .decimal128(BSONDecimal128(low: 1, high: 0x3040_0000_0000_0000)), .minKey, .maxKey,
    ])
    func everyBSONTypeSurvivesBytes(value: BSONValue) throws {
        let doc: BSONDocument = ["v": value, "after": "still here"]
        #expect(try BSONDocument(bytes: try doc.bytes()) == doc)
    }

    @Test func bytesMatchTheSpecExample() throws {
        // {"hello": "world"} from bsonspec.org
        let expected: [UInt8] = [
            0x16, 0, 0, 0, 0x02, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0, 0x06, 0, 0, 0, 0x77, 0x6F, 0x72, 0x6C, 0x64, 0, 0,
        ]
        #expect(try (["hello": "world"] as BSONDocument).bytes() == expected)
    }

    @Test func objectIdHexRoundTripsAndRejectsJunk() {
        let id = ObjectId()
        #expect(ObjectId(id.hex) == id)
        #expect(ObjectId("507f1f77bcf86cd799439011")?.hex == "507f1f77bcf86cd799439011")
        #expect(ObjectId("507f1f77bcf86cd79943901") == nil)
        #expect(ObjectId("507f1f77bcf86cd79943901z") == nil)
        #expect(ObjectId("{\"$ne\": null}") == nil)
        #expect(ObjectId() != ObjectId(), "ids are unique within a process")
        #expect(abs(id.date.timeIntervalSinceNow) < 5)
    }

    @Test func integersDecodeAcrossWidthsOnlyWhenTheyFit() throws {
        struct Small: Decodable { var n: Int8 }
        struct Wide: Decodable { var n: Int }
        #expect(try BSONDecoder().decode(Wide.self, from: ["n": .int32(5)]).n == 5)
        #expect(try BSONDecoder().decode(Wide.self, from: ["n": .double(5)]).n == 5)
        #expect(throws: DecodingError.self) { try BSONDecoder().decode(Small.self, from: ["n": .int64(1000)]) }
        #expect(throws: DecodingError.self) { try BSONDecoder().decode(Wide.self, from: ["n": .double(5.5)]) }
        #expect(throws: DecodingError.self) { try BSONDecoder().decode(Wide.self, from: ["n": "5"]) }
    }

    @Test func missingAndMistypedFieldsAreDecodingErrors() {
        #expect(throws: DecodingError.self) { try BSONDecoder().decode(Address.self, from: ["zip": "1"]) }
        #expect(throws: DecodingError.self) { try BSONDecoder().decode(Address.self, from: ["city": 1]) }
    }

    @Test func keysWithNULCannotBeWritten() {
        #expect(throws: BSONError.invalidKey("a\0b")) { try (["a\0b": 1] as BSONDocument).bytes() }
    }
}

@Suite struct MalformedBSONTests {
    let valid: [UInt8] = try! (["name": "x", "n": .int32(1), "sub": ["k": true]] as BSONDocument).bytes()

    @Test func everyTruncationIsRejected() {
        for length in 0..<valid.count {
            #expect(throws: BSONError.self) { try BSONDocument(bytes: Array(valid.prefix(length))) }
        }
    }

    @Test func trailingBytesAreRejected() {
        #expect(throws: BSONError.self) { try BSONDocument(bytes: valid + [0]) }
    }

    @Test func lengthLargerThanTheBufferIsRejected() {
        var bytes = valid
        bytes[0] = 0xFF
        #expect(throws: BSONError.self) { try BSONDocument(bytes: bytes) }
    }

    @Test func negativeStringLengthIsRejected() {
        // {"s": <string length -1>}
        let bytes: [UInt8] = [13, 0, 0, 0, 0x02, 0x73, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0]
        #expect(throws: BSONError.self) { try BSONDocument(bytes: bytes) }
    }

    @Test func missingTerminatorIsRejected() {
        var bytes = valid
        bytes[bytes.count - 1] = 1
        #expect(throws: BSONError.missingTerminator(offset: bytes.count - 1)) { try BSONDocument(bytes: bytes) }
    }

    @Test func invalidUTF8IsRejected() {
        // {"s": "\xFF"}
        let bytes: [UInt8] = [14, 0, 0, 0, 0x02, 0x73, 0, 2, 0, 0, 0, 0xFF, 0, 0]
        #expect(throws: BSONError.invalidUTF8(offset: 11)) { try BSONDocument(bytes: bytes) }
    }

    @Test func unknownTypeIsRejected() {
        let bytes: [UInt8] = [8, 0, 0, 0, 0x42, 0x6B, 0, 0]
        #expect(throws: BSONError.unsupportedType(0x42, key: "k")) { try BSONDocument(bytes: bytes) }
    }

    @Test func absurdNestingIsRejected() throws {
        var value: BSONValue = 1
        for _ in 0..<150 { value = ["d": value] }
        let bytes = try (["root": value] as BSONDocument).bytes()
        #expect(throws: BSONError.tooDeep) { try BSONDocument(bytes: bytes) }
    }

    @Test func randomMutationsNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bytes = valid
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            bytes[i] = UInt8.random(in: 0...255, using: &rng)
            // The parser's errors are typed: it either parses or throws BSONError, and never traps.
            _ = try? BSONDocument(bytes: bytes)
        }
    }
}
