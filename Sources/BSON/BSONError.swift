/// Why bytes are not a valid BSON document.
public enum BSONError: Error, Sendable, Equatable, CustomStringConvertible {
    case truncated(offset: Int)
    case badLength(offset: Int, length: Int)
    case missingTerminator(offset: Int)
    case invalidUTF8(offset: Int)
    case unsupportedType(UInt8, key: String)
    case tooDeep
    case invalidKey(String)

    public var description: String {
        switch self {
        case .truncated(let o): "BSON truncated at byte \(o)"
        case .badLength(let o, let l): "BSON length \(l) at byte \(o) is out of bounds"
        case .missingTerminator(let o): "BSON missing terminator at byte \(o)"
        case .invalidUTF8(let o): "BSON string at byte \(o) is not valid UTF-8"
        case .unsupportedType(let t, let k): "BSON type 0x\(String(t, radix: 16)) for key \"\(k)\" is not supported"
        case .tooDeep: "BSON nesting is deeper than \(BSONReader.maxDepth) levels"
        case .invalidKey(let k): "BSON key \"\(k)\" contains a NUL byte"
        }
    }
}
