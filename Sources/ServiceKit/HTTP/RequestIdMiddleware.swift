import Foundation
import HTTPTypes
import Hummingbird

/// Takes the caller's `X-Request-Id` when it is a sane token (else makes one), puts it
/// on the context, on every log line of the request, and on the response.
public struct RequestIdMiddleware<Context: ServiceContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[.requestId].flatMap { Self.isAcceptable($0) ? $0 : nil } ?? Self.generate()
        context.requestId = id
        context.logger[metadataKey: "requestId"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestId] = id
        return response
    }

    /// 1–128 characters of letters, digits, `-`, `_`, `.`: anything else could forge log lines.
    public static func isAcceptable(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
            }
    }

    static func generate() -> String { UUID().uuidString.lowercased() }
}

extension HTTPField.Name {
    public static let requestId = HTTPField.Name("X-Request-Id")!
}
