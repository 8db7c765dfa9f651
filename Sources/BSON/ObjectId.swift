import Foundation
import Synchronization

/// A 12-byte MongoDB ObjectId: 4 bytes of seconds, 5 random bytes per process, 3 bytes of counter.
public struct ObjectId: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The first 8 and the last 4 bytes, big-endian, so comparison follows byte order.
    let high: UInt64
    let low: UInt32

    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == 12, "an ObjectId has 12 bytes")
        var h: UInt64 = 0
        var l: UInt32 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt32(b) }
        }
        high = h
        low = l
    }

    /// A new, process-unique id.
    public init() {
        let seconds = UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970))
        let counter = ObjectId.counter.add(1, ordering: .relaxed).newValue & 0xFF_FFFF
        let r = ObjectId.processRandom
        high = UInt64(seconds) << 32 | (r >> 8) & 0xFFFF_FFFF
        low = UInt32(truncatingIfNeeded: r & 0xFF) << 24 | counter
    }

    /// Parses 24 hex digits; nil for anything else, so it is safe on user input.
    public init?(_ hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 24 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(12)
        for i in stride(from: 0, to: 24, by: 2) {
            guard let hi = Self.nibble(utf8[i]), let lo = Self.nibble(utf8[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
        }
        self.init(bytes: bytes)
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
            + (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt32($0))) }
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(24)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }

    /// When the id was made (second precision).
    public var date: Date { Date(timeIntervalSince1970: TimeInterval(high >> 32)) }

    public static func < (a: ObjectId, b: ObjectId) -> Bool { (a.high, a.low) < (b.high, b.low) }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static let processRandom: UInt64 = UInt64.random(in: 0...0xFF_FFFF_FFFF)
    private static let counter = Atomic<UInt32>(UInt32.random(in: 0...0xFF_FFFF))
}

/// Outside BSON (JSON APIs, logs) an ObjectId is its 24 hex digits.
extension ObjectId: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let hex = try container.decode(String.self)
        guard let id = ObjectId(hex) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ObjectId: expected 24 hex digits")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}
