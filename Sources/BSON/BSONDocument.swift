public struct BSONElement: Sendable, Equatable, Hashable {
    public var key: String
    public var value: BSONValue

    public init(key: String, value: BSONValue) {
        self.key = key
        self.value = value
    }
}

/// An ordered BSON document. Order matters to MongoDB (sort specs, index keys,
/// command names), so this is a list of elements rather than a dictionary.
public struct BSONDocument: Sendable, Equatable, Hashable {
    public private(set) var elements: [BSONElement]

    public init() { elements = [] }

    public init(_ elements: [BSONElement]) { self.elements = elements }

    public var isEmpty: Bool { elements.isEmpty }
    public var count: Int { elements.count }
    public var keys: [String] { elements.map(\.key) }

    /// The value under `key`; setting replaces it in place or appends it, setting nil removes it.
    public subscript(key: String) -> BSONValue? {
        get { elements.first { $0.key == key }?.value }
        set {
            let index = elements.firstIndex { $0.key == key }
            switch (index, newValue) {
            case (let i?, let v?): elements[i].value = v
            case (let i?, nil): elements.remove(at: i)
            case (nil, let v?): elements.append(BSONElement(key: key, value: v))
            case (nil, nil): break
            }
        }
    }

    /// Appends without looking for an existing key: for building documents whose keys are known distinct.
    public mutating func append(_ key: String, _ value: BSONValue) {
        elements.append(BSONElement(key: key, value: value))
    }
}

extension BSONDocument: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.elements = elements.map { BSONElement(key: $0.0, value: $0.1) }
    }
}

extension BSONDocument: Sequence {
    public func makeIterator() -> IndexingIterator<[BSONElement]> { elements.makeIterator() }
}
