import EdgeContract
import Foundation
import HTTPTypes
import Hummingbird

/// Takes the caller's `X-Request-Id` when it is a sane token (else makes one), puts it
/// on the context, on every log line of the request, and on the response.
public struct RequestIdMiddleware<Context: ServiceContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[.requestId].flatMap { RequestIdFormat.isAcceptable($0) ? $0 : nil } ?? Self.generate()
        context.requestId = id
        context.logger[metadataKey: "requestId"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestId] = id
        return response
    }

    static func generate() -> String { UUID().uuidString.lowercased() }
}

extension HTTPField.Name {
    public static let requestId = HTTPField.Name("X-Request-Id")!
}
