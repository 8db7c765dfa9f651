import EdgeContract
import Foundation
import Hummingbird

/// An error a client can act on, rendered as DESIGN.md's error body:
/// `{"message": "...", "error": {"code": "...", "requestId": "..."}}`.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// A stable, machine-readable code such as `invalid_field` or `not_found`.
    public let code: String
    /// A sentence for people; never carries secrets.
    public let message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func badRequest(_ message: String, code: String = "bad_request") -> APIError { APIError(.badRequest, code: code, message: message) }
    public static func unauthorized(_ message: String = "Authentication required") -> APIError { APIError(.unauthorized, code: "unauthorized", message: message) }
    public static func forbidden(_ message: String = "Not allowed") -> APIError { APIError(.forbidden, code: "forbidden", message: message) }
    public static func notFound(_ message: String = "Not found") -> APIError { APIError(.notFound, code: "not_found", message: message) }
    public static func conflict(_ message: String, code: String = "conflict") -> APIError { APIError(.conflict, code: code, message: message) }
    public static func payloadTooLarge(_ message: String = "Request body is too large") -> APIError { APIError(.contentTooLarge, code: "payload_too_large", message: message) }
    public static func unsupportedMediaType(_ message: String) -> APIError { APIError(.unsupportedMediaType, code: "unsupported_media_type", message: message) }
    public static func unavailable(_ message: String = "A dependency is unavailable, try again shortly") -> APIError { APIError(.serviceUnavailable, code: "unavailable", message: message) }
    public static func tooManyRequests(retryAfterSeconds: Int) -> APIError {
        APIError(.tooManyRequests, code: "rate_limited", message: "Too many requests, retry in \(retryAfterSeconds) s",
                 headers: [.retryAfter: String(retryAfterSeconds)])
    }
    public static func internalError() -> APIError { APIError(.internalServerError, code: "internal", message: "Internal error") }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let requestId = (context as? any ServiceContext)?.requestId ?? ""
        return Self.response(status: status, code: code, message: message, requestId: requestId, headers: headers)
    }

    static func response(status: HTTPResponse.Status, code: String, message: String, requestId: String, headers: HTTPFields) -> Response {
        let body = errorBody(message: message, code: code, requestId: requestId)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
