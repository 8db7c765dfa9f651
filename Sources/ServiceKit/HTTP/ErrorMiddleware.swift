import AMQP
import Hummingbird
import Mongo
import Redis

/// Turns every error a route throws into DESIGN.md's error body with the right
/// status. Unknown errors become a 500 whose details go to the log, not the client.
public struct ErrorMiddleware<Context: ServiceContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.translate(error)
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
        case let e as HTTPError:
            // Hummingbird's own: malformed JSON, unknown routes.
            return APIError(e.status, code: code(for: e.status), message: e.body ?? e.status.reasonPhrase, headers: e.headers)
        case let e as any HTTPResponseError:
            // For example a body over the size limit (NIOTooManyBytesError).
            return APIError(e.status, code: code(for: e.status), message: e.status.reasonPhrase)
        case is DecodingError: return .badRequest("Request body is not valid for this endpoint", code: "invalid_body")
        case MongoError.duplicateKey: return .conflict("Already exists")
        case MongoError.unavailable, RedisError.unavailable, AMQPError.connection: return .unavailable()
        default: return .internalError()
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
