import Foundation
import HTTPTypes
import NIOCore
import TestSupport

/// A `multipart/form-data` body as a browser would send it.
public struct MultipartBody {
    public let boundary = "----switchboard\(UInt32.random(in: 0...UInt32.max))"
    var bytes: [UInt8] = []

    public init() {}

    public func field(_ name: String, _ value: String) -> MultipartBody {
        var copy = self
        copy.bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        return copy
    }

    public func file(_ name: String, filename: String, type: String, _ content: [UInt8]) -> MultipartBody {
        var copy = self
        copy.bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
        copy.bytes += content + Array("\r\n".utf8)
        return copy
    }

    public var body: ByteBuffer { ByteBuffer(bytes: bytes + Array("--\(boundary)--\r\n".utf8)) }
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    public func headers(_ base: HTTPFields) -> HTTPFields {
        var headers = base
        headers[.contentType] = contentType
        return headers
    }
}

/// Bytes that start like the named image format (the services sniff the start, nothing more).
public enum ImageBytes {
    public static func png(size: Int = 2048) -> [UInt8] { [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + filler(size - 8) }
    public static func jpeg(size: Int = 2048) -> [UInt8] { [0xFF, 0xD8, 0xFF, 0xE0] + filler(size - 4) }
    public static func webp(size: Int = 2048) -> [UInt8] { Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBP".utf8) + filler(size - 12) }
    static func filler(_ n: Int) -> [UInt8] { randomBytes(max(0, n)) }
}
