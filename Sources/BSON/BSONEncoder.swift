import Foundation

/// Encodes `Encodable` values as BSON. `Date` becomes a BSON datetime (millisecond
/// precision), `Data` binary, `ObjectId` an ObjectId, `Int` int64, `Int32` int32;
/// `BSONValue` and `BSONDocument` pass through unchanged.
public struct BSONEncoder: Sendable {
    public init() {}

    /// Encodes a value that encodes as a keyed container (a struct or a dictionary).
    public func encode(_ value: some Encodable) throws -> BSONDocument {
        guard case .document(let doc) = try encodeValue(value) else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: [], debugDescription: "a top-level BSON value must encode as a document"))
        }
        return doc
    }

    public func encodeValue(_ value: some Encodable) throws -> BSONValue {
        if let special = try specialValue(value) { return special }
        let node = EncodedNode()
        try value.encode(to: NodeEncoder(node: node, codingPath: []))
        return try node.resolve(codingPath: [])
    }
}

/// Types with a BSON form of their own rather than their `Codable` form.
private func specialValue(_ value: Any) throws -> BSONValue? {
    switch value {
    case let v as BSONValue: return v
    case let v as BSONDocument: return .document(v)
    case let v as ObjectId: return .objectId(v)
    case let v as Date:
        let ms = (v.timeIntervalSince1970 * 1000).rounded(.down)
        guard ms.isFinite, abs(ms) < 9.0e18 else {
            throw EncodingError.invalidValue(v, .init(codingPath: [], debugDescription: "date out of BSON range"))
        }
        return .datetime(Int64(ms))
    case let v as Data: return .binary(BSONBinary(subtype: 0, bytes: [UInt8](v)))
    case let v as BSONBinary: return .binary(v)
    default: return nil
    }
}

/// The tree an encoding builds; containers write into nodes that are resolved at the end,
/// which lets nested containers and super-encoders fill in their part later.
private final class EncodedNode {
    enum Content {
        case empty
        case value(BSONValue)
        case document(keys: [String], nodes: [String: EncodedNode])
        case array([EncodedNode])
    }

    var content: Content = .empty

    func resolve(codingPath: [any CodingKey]) throws -> BSONValue {
        switch content {
        case .empty: return .document(BSONDocument())
        case .value(let v): return v
        case .document(let keys, let nodes):
            var doc = BSONDocument()
            for key in keys { doc.append(key, try nodes[key]!.resolve(codingPath: codingPath)) }
            return .document(doc)
        case .array(let nodes): return .array(try nodes.map { try $0.resolve(codingPath: codingPath) })
        }
    }

    func child(forKey key: String) -> EncodedNode {
        if case .empty = content { content = .document(keys: [], nodes: [:]) }
        guard case .document(var keys, var nodes) = content else {
            preconditionFailure("keyed and unkeyed containers mixed for one value")
        }
        if let existing = nodes[key] { return existing }
        let node = EncodedNode()
        content = .empty  // drop the reference so the arrays mutate in place
        keys.append(key)
        nodes[key] = node
        content = .document(keys: keys, nodes: nodes)
        return node
    }

    func appendChild() -> EncodedNode {
        if case .empty = content { content = .array([]) }
        guard case .array(var nodes) = content else {
            preconditionFailure("keyed and unkeyed containers mixed for one value")
        }
        let node = EncodedNode()
        content = .empty
        nodes.append(node)
        content = .array(nodes)
        return node
    }

    var arrayCount: Int {
        if case .array(let nodes) = content { return nodes.count }
        return 0
    }
}

private struct IndexKey: CodingKey {
    let intValue: Int?
    let stringValue: String
    init(_ i: Int) { intValue = i; stringValue = String(i) }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.init(intValue) }
}

private struct NodeEncoder: Encoder {
    let node: EncodedNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .empty = node.content { node.content = .document(keys: [], nodes: [:]) }
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .empty = node.content { node.content = .array([]) }
        return UnkeyedNodeEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeEncoder(node: node, codingPath: codingPath)
    }
}

/// Encodes one value into `node`: the shared path of all three container kinds.
private func encodeNode(_ value: some Encodable, into node: EncodedNode, codingPath: [any CodingKey]) throws {
    if let special = try specialValue(value) {
        node.content = .value(special)
        return
    }
    try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
    if case .empty = node.content { node.content = .value(.document(BSONDocument())) }
}

private func integer<T: BinaryInteger>(_ v: T, codingPath: [any CodingKey]) throws -> BSONValue {
    if T.self == Int32.self || T.self == Int16.self || T.self == Int8.self || T.self == UInt8.self || T.self == UInt16.self {
        return .int32(Int32(v))
    }
    guard let i = Int64(exactly: v) else {
        throw EncodingError.invalidValue(v, .init(codingPath: codingPath, debugDescription: "\(v) does not fit BSON int64"))
    }
    return .int64(i)
}

private struct SingleNodeEncoder: SingleValueEncodingContainer {
    let node: EncodedNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.content = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { node.content = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int8) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int16) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int32) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int64) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt8) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt16) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt32) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt64) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: some Encodable) throws {
        try encodeNode(value, into: node, codingPath: codingPath)
    }
}

private struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodedNode
    let codingPath: [any CodingKey]

    private func single(_ key: Key) -> SingleNodeEncoder {
        SingleNodeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }

    mutating func encodeNil(forKey key: Key) throws { var s = single(key); try s.encodeNil() }
    mutating func encode(_ value: Bool, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { var s = single(key); try s.encode(value) }
    mutating func encode(_ value: some Encodable, forKey key: Key) throws { var s = single(key); try s.encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(node: node.child(forKey: "super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        NodeEncoder(node: node.child(forKey: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
    let node: EncodedNode
    let codingPath: [any CodingKey]
    var count: Int { node.arrayCount }

    private func single() -> SingleNodeEncoder {
        SingleNodeEncoder(node: node.appendChild(), codingPath: codingPath + [IndexKey(count)])
    }

    mutating func encodeNil() throws { var s = single(); try s.encodeNil() }
    mutating func encode(_ value: Bool) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: String) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Double) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Int) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Int32) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: Int64) throws { var s = single(); try s.encode(value) }
    mutating func encode(_ value: some Encodable) throws { var s = single(); try s.encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: node.appendChild(), codingPath: codingPath + [IndexKey(count)]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        NodeEncoder(node: node.appendChild(), codingPath: codingPath + [IndexKey(count)]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        NodeEncoder(node: node.appendChild(), codingPath: codingPath + [IndexKey(count)])
    }
}
