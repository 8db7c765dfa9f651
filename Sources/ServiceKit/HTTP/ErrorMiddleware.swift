import AMQP
import Hummingbird
import Mongo
import Redis

/// Turns every error a route throws into DESIGN.md's error body with the right
/// status. Unknown errors become a 500 whose details go to the log, not the client.
public struct ErrorMiddleware<Context: ServiceContext>: RouterMiddleware {
    /// When given: a path routed for other methods answers 405 with `Allow`, not 404.
    let allowed: AllowedMethods<Context>?

    public init(allowed: AllowedMethods<Context>? = nil) {
        self.allowed = allowed
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var apiError = Self.translate(error)
            if apiError.code == "no_route", let allowed, case let methods = allowed.methods(for: request.uri.path), !methods.isEmpty {
                apiError = APIError(.methodNotAllowed, code: "method_not_allowed", message: "\(request.method) is not allowed here",
                                    headers: [.allow: methods.joined(separator: ", ")])
            }
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(error)", "status": "\(apiError.status.code)"])
            }
            return try apiError.response(from: request, context: context)
        }
    }

    /// The client-facing form of any error.
    public static func translate(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as HTTPError where e.status == .notFound && e.body == nil:
            // The router's: no route has this method and path (told apart from a missing record).
            return APIError(.notFound, code: "no_route", message: "No such route")
        case let e as HTTPError:
            // Hummingbird's own: malformed JSON and the like.
            return APIError(e.status, code: code(for: e.status), message: e.body ?? e.status.reasonPhrase, headers: e.headers)
        case let e as any HTTPResponseError:
            // For example a body over the size limit (NIOTooManyBytesError).
            return APIError(e.status, code: code(for: e.status), message: e.status.reasonPhrase)
        case let e as DecodingError: return decodingError(e)
        case MongoError.duplicateKey: return .conflict("Already exists")
        case MongoError.unavailable, RedisError.unavailable, AMQPError.connection: return .unavailable()
        default: return .internalError()
        }
    }

    /// Names the field at fault (never its value: it may be a password).
    static func decodingError(_ error: DecodingError) -> APIError {
        func path(_ keys: [any CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context):
            return .badRequest("\(path(context.codingPath + [key])) is required", code: "missing_field")
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            guard !context.codingPath.isEmpty else { return .badRequest("Request body must be a JSON object", code: "invalid_body") }
            return .badRequest("\(path(context.codingPath)) has the wrong type", code: "invalid_field")
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            return .badRequest("\(path(context.codingPath)) is not valid", code: "invalid_field")
        default:
            return .badRequest("Request body is not valid JSON", code: "invalid_body")
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status {
        case .badRequest: "bad_request"
        case .contentTooLarge: "payload_too_large"
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .unsupportedMediaType: "unsupported_media_type"
        default: "http_\(status.code)"
        }
    }
}
