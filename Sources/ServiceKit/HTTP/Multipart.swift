import Foundation
import Hummingbird

/// One part of a `multipart/form-data` body: a text field, or a file when it has a filename.
public struct MultipartPart: Sendable, Equatable {
    public let name: String
    public let filename: String?
    public let contentType: String?
    public let body: [UInt8]

    public var text: String? { String(validating: body, as: UTF8.self) }
}

/// A `multipart/form-data` parser for bodies already limited in size (the request's
/// upload limit): RFC 7578, with the strictness a public endpoint needs — a malformed
/// body is a 400, never a crash or a guess.
public enum Multipart {
    public static let maxParts = 32
    static let maxHeaderBytes = 8 * 1024

    /// The boundary of a `multipart/form-data` content type, or nil for any other type.
    public static func boundary(of contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    public static func parse(_ body: [UInt8], boundary: String) throws -> [MultipartPart] {
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [13, 10]
        guard var position = find(delimiter, in: body, from: 0) else { throw malformed("no boundary found") }
        var parts: [MultipartPart] = []
        while true {
            position += delimiter.count
            if body[position...].starts(with: [45, 45]) { return parts }  // "--": the end
            guard body[position...].starts(with: crlf) else { throw malformed("boundary not followed by a line break") }
            position += 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: position), headerEnd - position <= maxHeaderBytes else {
                throw malformed("part headers do not end")
            }
            let headers = try parseHeaders(Array(body[position..<headerEnd]))
            let contentStart = headerEnd + 4
            guard let next = find(crlf + delimiter, in: body, from: contentStart) else { throw malformed("part does not end") }
            guard let disposition = headers["content-disposition"], let name = parameter("name", in: disposition) else {
                throw malformed("part without a form-data name")
            }
            parts.append(MultipartPart(
                name: name, filename: parameter("filename", in: disposition), contentType: headers["content-type"],
                body: Array(body[contentStart..<next])))
            guard parts.count <= maxParts else { throw malformed("more than \(maxParts) parts") }
            position = next + 2
        }
    }

    static func parseHeaders(_ bytes: [UInt8]) throws -> [String: String] {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw malformed("part headers are not UTF-8") }
        var headers: [String: String] = [:]
        for line in text.components(separatedBy: "\r\n") where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw malformed("malformed part header") }
            headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return headers
    }

    /// `name="value"` (or unquoted) in a Content-Disposition header.
    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == key else { continue }
            var value = pair[1]
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.replacingOccurrences(of: "\\\"", with: "\"")
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func malformed(_ why: String) -> APIError {
        APIError.badRequest("Malformed multipart body: \(why)", code: "invalid_multipart")
    }
}
